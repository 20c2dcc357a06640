import { setImmediate as nextTurn } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';
import { alertToSignal, type AlertMapping, type IgnoredAlert } from '../../alerts/map.js';
import { alertCount, ALERTS_PER_SLICE, MAX_ALERTS_PER_WEBHOOK, parseWebhook } from '../../alerts/payload.js';
import type { Plan } from '../../config/plan.js';
import type { ExternalSignal, IncidentChange } from '../../engine/types.js';
import { TocsinError } from '../../errors.js';
import type { ApiContext } from '../context.js';
import { storeWithin } from '../deadline.js';
import { requireRole } from '../guard.js';

/**
 * A group can hold many alerts (Alertmanager's `max_alerts` is unlimited by default): room for
 * MAX_ALERTS_PER_WEBHOOK alerts of ~400 bytes (labels, annotations, generatorURL) each.
 */
const ALERTS_BODY_LIMIT_BYTES = 4 * 1024 * 1024;

/**
 * `POST /api/v1/alerts/alertmanager` (operator): an Alertmanager webhook (version 4). Each alert
 * naming a known component becomes an external signal of the live engine (firing) or clears it
 * (resolved); the incidents it changes are stored before the answer
 * `{ accepted, ignored: [{ fingerprint, reason }] }` (docs/alertmanager.md).
 */
export function alertmanagerRoutes(app: FastifyInstance, ctx: ApiContext): void {
  // Made once per plan: a reload may change the components and the intake's settings.
  let made: { plan: Plan; mapping: AlertMapping } | undefined;
  const mappingOf = (plan: Plan): AlertMapping => {
    if (made?.plan !== plan) {
      const spec = plan.alertmanager;
      made = {
        plan,
        mapping: {
          componentLabel: spec?.component_label ?? 'component',
          rule: spec?.rule ?? 'alertmanager',
          components: new Set(plan.components.map((c) => c.id)),
        },
      };
    }
    return made.mapping;
  };
  const log = ctx.logger.child({ component: 'alertmanager' });

  app.post(
    '/api/v1/alerts/alertmanager',
    {
      bodyLimit: ALERTS_BODY_LIMIT_BYTES,
      // Before the body is read: an unauthenticated caller learns nothing about its body.
      onRequest: async (req) => {
        requireRole(ctx, req, 'operator');
      },
    },
    async (req) => {
      // Counted before validation and mapping, which cost per alert.
      const count = alertCount(req.body);
      if (count !== undefined && count > MAX_ALERTS_PER_WEBHOOK) {
        log.warn({ alerts: count, limit: MAX_ALERTS_PER_WEBHOOK }, 'webhook refused: too many alerts');
        throw new TocsinError(
          'PAYLOAD_TOO_LARGE',
          `alerts: ${count} alerts, over the limit of ${MAX_ALERTS_PER_WEBHOOK} per webhook; set max_alerts on Alertmanager's webhook receiver`,
        );
      }
      const parsed = await parseWebhook(req.body);
      if (!parsed.ok) throw new TocsinError('INVALID', parsed.message);
      const truncated = parsed.value.truncatedAlerts ?? 0;
      // Alerts Alertmanager left out (max_alerts) never reach Tocsin: say so where operators look.
      if (truncated > 0) log.info({ receiver: parsed.value.receiver, truncated }, 'webhook truncated by Alertmanager (max_alerts)');
      const engine = ctx.incidents.engine;
      if (!engine) throw new TocsinError('UNAVAILABLE', 'the rules engine is not running');
      const now = ctx.incidents.clock.now();
      const ignored: IgnoredAlert[] = [];
      const signals: ExternalSignal[] = [];
      const alerts = parsed.value.alerts;
      const mapping = mappingOf(ctx.plan);
      let firing = 0;
      for (let i = 0; i < alerts.length; i++) {
        // Slices, as in parseWebhook: other requests are served between them.
        if (i > 0 && i % ALERTS_PER_SLICE === 0) await nextTurn();
        const alert = alerts[i] as (typeof alerts)[number];
        const mapped = alertToSignal(alert, mapping, now);
        if (!mapped.ok) {
          ignored.push(mapped.ignored);
          continue;
        }
        if (alert.status === 'firing') firing++;
        signals.push(mapped.signal);
      }
      // Counted once per status, not once per alert (a labelled inc hashes its labels each time).
      if (firing > 0) ctx.metrics.alertsReceived.inc({ status: 'firing' }, firing);
      if (signals.length > firing) ctx.metrics.alertsReceived.inc({ status: 'resolved' }, signals.length - firing);
      if (ignored.length > 0) ctx.metrics.alertsReceived.inc({ status: 'ignored' }, ignored.length);
      const accepted = signals.length;
      // The whole webhook as one batch: a rack of 3,000 node exporters firing at once is one
      // evaluation and one write, not 3,000 copies of a growing incident.
      const changes: IncidentChange[] = signals.length > 0 ? engine.externalBatch(signals) : [];
      if (changes.length > 0) {
        for (const c of changes) {
          if (c.opened) log.warn({ incident: c.incident.id, title: c.incident.title, rule: c.rule }, 'draft incident opened');
        }
        // The engine took the signals and the changes stay in the writer's outbox until stored
        // (as when the store refuses at once): a store that hangs is answered 503 within a second.
        await storeWithin(ctx.incidents.writer.apply(changes), undefined, '; the alerts are kept and stored when it answers');
      }
      if (ignored.length > 0) log.info({ receiver: parsed.value.receiver, ignored }, 'alerts ignored');
      return { accepted, ignored };
    },
  );
}

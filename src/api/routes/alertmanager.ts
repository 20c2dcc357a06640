import type { FastifyInstance } from 'fastify';
import { alertToSignal, type AlertMapping, type IgnoredAlert } from '../../alerts/map.js';
import { parseWebhook } from '../../alerts/payload.js';
import type { ExternalSignal, IncidentChange } from '../../engine/types.js';
import { TocsinError } from '../../errors.js';
import type { ApiContext } from '../context.js';
import { requireRole } from '../guard.js';

/** A group can hold many alerts (Alertmanager's `max_alerts` is unlimited by default). */
const ALERTS_BODY_LIMIT_BYTES = 4 * 1024 * 1024;

/**
 * `POST /api/v1/alerts/alertmanager` (operator): an Alertmanager webhook (version 4). Each alert
 * naming a known component becomes an external signal of the live engine (firing) or clears it
 * (resolved); the incidents it changes are stored before the answer
 * `{ accepted, ignored: [{ fingerprint, reason }] }` (docs/alertmanager.md).
 */
export function alertmanagerRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const spec = ctx.plan.alertmanager;
  const mapping: AlertMapping = {
    componentLabel: spec?.component_label ?? 'component',
    rule: spec?.rule ?? 'alertmanager',
    components: new Set(ctx.plan.components.map((c) => c.id)),
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
      const parsed = parseWebhook(req.body);
      if (!parsed.ok) throw new TocsinError('INVALID', parsed.message);
      const engine = ctx.incidents.engine;
      if (!engine) throw new TocsinError('UNAVAILABLE', 'the rules engine is not running');
      const now = ctx.incidents.clock.now();
      const ignored: IgnoredAlert[] = [];
      const signals: ExternalSignal[] = [];
      for (const alert of parsed.value.alerts) {
        const mapped = alertToSignal(alert, mapping, now);
        if (!mapped.ok) {
          ignored.push(mapped.ignored);
          ctx.metrics.alertsReceived.inc({ status: 'ignored' });
          continue;
        }
        ctx.metrics.alertsReceived.inc({ status: alert.status });
        signals.push(mapped.signal);
      }
      const accepted = signals.length;
      // The whole webhook as one batch: a rack of 3,000 node exporters firing at once is one
      // evaluation and one write, not 3,000 copies of a growing incident.
      const changes: IncidentChange[] = signals.length > 0 ? engine.externalBatch(signals) : [];
      if (changes.length > 0) {
        for (const c of changes) {
          if (c.opened) log.warn({ incident: c.incident.id, title: c.incident.title, rule: c.rule }, 'draft incident opened');
        }
        await ctx.incidents.writer.apply(changes);
      }
      if (ignored.length > 0) log.info({ receiver: parsed.value.receiver, ignored }, 'alerts ignored');
      return { accepted, ignored };
    },
  );
}

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../package-info.js';

/**
 * Where the browser script is: compiled by the project's tsc like everything else. Under vitest
 * the server's own source is .ts, so the file is found from the package root, not beside this
 * module.
 */
export const CLIENT_SCRIPT_FILE = join(PACKAGE_ROOT, 'dist', 'src', 'console', 'client.js');

/**
 * Reads the compiled console script once, at startup. A missing file is a packaging or build
 * mistake: it fails loudly here rather than serving a console whose updates silently never come.
 */
export function loadClientScript(file = CLIENT_SCRIPT_FILE): string {
  if (!existsSync(file)) {
    throw new Error(`console script missing: ${file} (run \`npm run build\`; the console's client is compiled from src/console/client.ts)`);
  }
  // The source map is not served: drop the comment pointing at it (no 404 in the browser's console).
  return readFileSync(file, 'utf8').replace(/\n\/\/# sourceMappingURL=.*\s*$/, '\n');
}

/** The console's icon (a bell, "tocsin"), so browsers do not ask for a /favicon.ico that is not there. */
export const CONSOLE_ICON_SVG =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><path fill="#cf222e" ' +
  'd="M16 3a2 2 0 0 1 2 2v1.2A9 9 0 0 1 25 15v6l3 4H4l3-4v-6a9 9 0 0 1 7-8.8V5a2 2 0 0 1 2-2z"/>' +
  '<circle cx="16" cy="28" r="3" fill="#cf222e"/></svg>';

/** Status colours, the same as the public status page's, each with its word beside it in the markup. */
const C = {
  operational: '#1a7f37',
  under_maintenance: '#1f6feb',
  degraded_performance: '#9a6700',
  partial_outage: '#c4470c',
  major_outage: '#cf222e',
};

/** The console's stylesheet, served at /console/console.css (a file, so the CSP needs no 'unsafe-inline'). */
export const CONSOLE_CSS = `
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1f2328;background:#f6f8fa}
a{color:#0969da}
code{font:13px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;overflow-wrap:anywhere}
.top{position:sticky;top:0;z-index:1;display:flex;flex-wrap:wrap;align-items:center;gap:.25rem 1rem;padding:.5rem 1rem;background:#24292f;color:#fff}
.top a{color:#fff;text-decoration:none}
.brand{font-size:1.05rem}
.top nav{flex:1 1 auto}
.navlinks{display:flex;flex-wrap:wrap;gap:.25rem .9rem}
.navlinks a{opacity:.9}.navlinks a:hover{opacity:1;text-decoration:underline}
.count{display:inline-block;min-width:1.4em;padding:0 .35em;border-radius:1em;background:#57606a;text-align:center;font-size:.8rem}
.count.hot{background:${C.major_outage}}
.who{display:flex;align-items:center;gap:.5rem;font-size:.9rem}
.role{font-size:.75rem;padding:0 .4em;border:1px solid #8c959f;border-radius:.3em}
main{max-width:72rem;margin:0 auto;padding:.75rem 1rem 3rem}
main.narrow{max-width:28rem;padding-top:3rem}
h1{font-size:1.4rem}
h2{font-size:1.15rem;margin:1.5rem 0 .5rem}
h3{font-size:1.02rem;margin:0 0 .25rem}
h4{font-size:.8rem;text-transform:uppercase;letter-spacing:.04em;color:#59636e;margin:.75rem 0 .25rem}
.card{background:#fff;border:1px solid #d1d9e0;border-radius:.5rem;margin:.5rem 0;padding:.75rem 1rem}
.inc{border-left:.35rem solid #d1d9e0}
.inc.rv-pending.st-open{border-left-color:${C.partial_outage}}
.inc.rv-confirmed.st-open{border-left-color:${C.major_outage}}
.inc.st-resolved{border-left-color:${C.operational}}
.inc.rv-dismissed{border-left-color:#8c959f}
.meta{margin:.1rem 0;color:#59636e;font-size:.85rem}
.badge{display:inline-block;padding:0 .45em;border-radius:.3em;font-size:.75rem;font-weight:600;background:#eff2f5;color:#1f2328;text-decoration:none;white-space:nowrap}
.sev-critical{background:${C.major_outage};color:#fff}.sev-major{background:${C.partial_outage};color:#fff}.sev-minor{background:${C.degraded_performance};color:#fff}
.rv-pending.badge{background:#fff8c5;color:#7d4e00;border:1px solid #d4a72c}
.rv-confirmed.badge{background:#ddf4ff;color:#0550ae}
.rv-dismissed.badge{background:#eff2f5;color:#59636e}
.st-resolved.badge{background:#dafbe1;color:#116329}
.impacts{margin:0;padding-left:1.1rem}
.counts{margin:.1rem 0 .3rem}
.more{color:#59636e}
.impacts li.more{list-style:none}
.imp{font-weight:600}
.imp-degraded_performance{color:${C.degraded_performance}}.imp-partial_outage{color:${C.partial_outage}}.imp-major_outage{color:${C.major_outage}}
.scroll{overflow-x:auto}
table{border-collapse:collapse;width:100%;font-size:.875rem}
th,td{text-align:left;vertical-align:top;padding:.3rem .5rem;border-top:1px solid #eff2f5}
th{font-weight:600;color:#59636e;font-size:.8rem;border-top:0}
td.num{text-align:right;white-space:nowrap}
.target{overflow-wrap:anywhere;max-width:28rem}
.err,.fail{color:${C.major_outage};font-weight:600}
.ok{color:${C.operational};font-weight:600}
.detail{font-size:.8rem;max-width:24rem;overflow-wrap:anywhere}
details{margin:.5rem 0 0}
summary{cursor:pointer;color:#59636e;font-size:.85rem}
.timeline{margin:.25rem 0 0;padding-left:1.2rem;font-size:.875rem}
.timeline li{margin:.15rem 0;overflow-wrap:anywhere}
.timeline time{color:#59636e;font-size:.8rem}
.kind{font-size:.72rem;font-weight:600;text-transform:uppercase;color:#59636e}
.author{color:#59636e;font-size:.8rem}
.phase{font-size:.72rem;font-weight:600;padding:0 .3rem;border-radius:.25rem;background:#ddf4ff;color:#0969da}
.actions{display:flex;flex-wrap:wrap;gap:.5rem;margin-top:.75rem;padding-top:.75rem;border-top:1px solid #eff2f5}
form.act{display:flex;flex:1 1 22rem;flex-wrap:wrap;gap:.35rem}
select,textarea{max-width:100%;min-width:0}
form.act input[type=text],form.act input:not([type]){flex:1 1 10rem;min-width:0}
input,select,textarea{font:inherit;padding:.4rem .5rem;border:1px solid #d1d9e0;border-radius:.375rem;background:#fff}
details.edit form.act,form.write{flex-direction:column;align-items:stretch;gap:.5rem}
details.edit label,form.write label{display:flex;flex-direction:column;gap:.2rem;font-size:.85rem;color:#59636e}
form.write{display:flex;margin-top:.5rem}
form.write .btn,details.edit .btn{align-self:flex-start}
.btn{font:inherit;font-weight:600;padding:.4rem .8rem;border-radius:.375rem;border:1px solid #d1d9e0;background:#f6f8fa;color:#1f2328;cursor:pointer;white-space:nowrap}
.btn.primary{background:#1f883d;border-color:#1a7f37;color:#fff}
.btn.warn{background:#fff;border-color:${C.major_outage};color:${C.major_outage}}
.btn.link{background:none;border:0;color:#fff;text-decoration:underline;padding:0 .2rem}
form.inline{display:inline}
.signin{display:flex;flex-direction:column;gap:.5rem}
.flash{padding:.6rem .9rem;border-radius:.375rem;border:1px solid}
.flash.ok{background:#dafbe1;border-color:#4ac26b}
.flash.error{background:#ffebe9;border-color:#ff8182}
.readonly{color:#59636e;font-size:.9rem}
.live-state{color:#59636e;font-size:.8rem;margin:.25rem 0;min-height:1em}
.live-state.stale{color:${C.major_outage}}
.none,.muted{color:#59636e}
.ago{color:#59636e;font-size:.8rem}
.group{background:#fff;border:1px solid #d1d9e0;border-radius:.5rem;margin:.5rem 0;overflow:hidden}
.group h3{padding:.45rem 1rem;background:#f6f8fa;border-bottom:1px solid #d1d9e0}
.row{display:flex;flex-wrap:wrap;justify-content:space-between;gap:.25rem 1rem;padding:.45rem 1rem;border-top:1px solid #eff2f5}
.group h3+.row{border-top:0}
.status{font-weight:600;white-space:nowrap}
.dot{display:inline-block;width:.65rem;height:.65rem;border-radius:50%;margin-right:.4rem;background:currentColor}
${Object.entries(C).map(([k, v]) => `.status.s-${k}{color:${v}}`).join('\n')}
.spark{display:block}
.spark polyline{fill:none;stroke:#0969da;stroke-width:1.5}
.spark circle.ok{fill:#0969da}
.spark circle.fail{fill:${C.major_outage}}
@media (max-width:40rem){
  main{padding:.5rem .5rem 3rem}
  .card{padding:.6rem .7rem}
  form.act{flex-basis:100%}
  .top{padding:.5rem;position:static}
}
`;

/** The dashboard page's style sheet: system fonts, no images, light and dark schemes. */
export const PAGE_STYLE = `
:root { color-scheme: light dark; --fg: #1d232a; --muted: #5b6570; --bg: #f6f7f9; --panel: #fff; --line: #d5dae0;
  --ok: #1f9d6b; --warn: #d98a00; --bad: #d23c3c; --idle: #9aa3ad; --accent: #2f6fd6; }
@media (prefers-color-scheme: dark) { :root { --fg: #e3e7ec; --muted: #9aa6b2; --bg: #14181d; --panel: #1c2127; --line: #333b44; } }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
header { display: flex; gap: 16px; align-items: center; flex-wrap: wrap; padding: 10px 18px; background: var(--panel); border-bottom: 1px solid var(--line); }
header h1 { font-size: 17px; margin: 0; }
#summary { color: var(--muted); }
.live { padding: 2px 8px; border-radius: 10px; font-size: 12px; border: 1px solid var(--line); }
.live.live { color: var(--ok); border-color: var(--ok); }
.live.reconnecting, .live.connecting { color: var(--warn); border-color: var(--warn); }
.live.disconnected { color: var(--bad); border-color: var(--bad); }
main { padding: 14px 18px; display: grid; gap: 14px; }
section { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; overflow-x: auto; }
section h2 { font-size: 15px; margin: 0 0 8px; }
h3 { font-size: 13px; margin: 14px 0 6px; color: var(--muted); text-transform: uppercase; letter-spacing: .04em; }
.note { margin: 4px 0; color: var(--warn); }
.empty { color: var(--muted); }
.error, .error pre { color: var(--bad); }
.warn { color: var(--warn); }
.mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
.small { font-size: 11px; color: var(--muted); }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-size: 12px; color: var(--muted); font-weight: 600; }
td pre { margin: 0; white-space: pre-wrap; max-width: 48ch; max-height: 9em; overflow: auto; font-size: 12px; }
tr.nacked td { background: color-mix(in srgb, var(--bad) 8%, transparent); }
pre.spec { font-size: 12px; background: var(--bg); padding: 8px; border-radius: 6px; max-height: 24em; overflow: auto; }
.chip { display: inline-block; padding: 0 7px; border-radius: 9px; font-size: 11px; font-weight: 600; border: 1px solid currentColor; }
.chip.synced { color: var(--ok); } .chip.nacked, .chip.error { color: var(--bad); } .chip.stale, .chip.warning { color: var(--warn); }
.chip.not-sent, .chip.info { color: var(--muted); }
#findings { margin: 0; padding-left: 18px; }
.legend { display: flex; gap: 14px; flex-wrap: wrap; color: var(--muted); font-size: 12px; margin-bottom: 6px; }
.legend i { display: inline-block; width: 18px; height: 3px; vertical-align: middle; margin-right: 4px; }
.legend i.healthy { background: var(--ok); } .legend i.degraded { background: var(--warn); } .legend i.failing { background: var(--bad); }
svg#graph { display: block; min-width: 320px; }
.node rect { fill: var(--panel); stroke: var(--idle); stroke-width: 1.5; }
.node.healthy rect { stroke: var(--ok); } .node.degraded rect { stroke: var(--warn); } .node.failing rect { stroke: var(--bad); stroke-width: 2.5; }
.node.workload rect { fill: color-mix(in srgb, var(--accent) 10%, var(--panel)); }
.node.unknown rect { fill: var(--panel); stroke-dasharray: 4 3; }
.node.external rect { stroke-dasharray: 5 3; }
.node.selected rect { stroke: var(--accent); stroke-width: 3; }
.node { cursor: pointer; } .node.workload, .node.unknown { cursor: default; }
.node text { fill: var(--fg); } .node text.name { font-weight: 600; } .node text.version { fill: var(--muted); font-size: 12px; }
.edge path { fill: none; stroke: var(--idle); opacity: .85; }
.edge.healthy path { stroke: var(--ok); } .edge.degraded path { stroke: var(--warn); } .edge.failing path { stroke: var(--bad); }
.arrowhead { fill: var(--idle); } .arrowhead.healthy { fill: var(--ok); } .arrowhead.degraded { fill: var(--warn); } .arrowhead.failing { fill: var(--bad); }
.edge-label text { font-size: 11px; fill: var(--fg); paint-order: stroke; stroke: var(--bg); stroke-width: 3px; }
.edge-label text.latency { fill: var(--muted); }
.lock rect { fill: var(--ok); } .lock path { stroke: var(--ok); stroke-width: 1.6; }
.lock.partial rect { fill: var(--warn); } .lock.partial path { stroke: var(--warn); }
details summary { cursor: pointer; }
`;

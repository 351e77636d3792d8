import { createHash } from 'node:crypto';
import { PAGE_STYLE } from './page-style.ts';
import { SCRIPT_GRAPH } from './script-graph.ts';
import { SCRIPT_HELPERS } from './script-helpers.ts';
import { SCRIPT_PANELS } from './script-panels.ts';

/** The page's script: the three parts in one function scope (nothing leaks into `window`). */
export const DASHBOARD_SCRIPT = `(function () {\n'use strict';\n${SCRIPT_HELPERS}\n${SCRIPT_GRAPH}\n${SCRIPT_PANELS}\n})();\n`;

const BODY = `
<header>
  <h1>Weft mesh</h1>
  <span id="live" class="live connecting">connecting</span>
  <label>Window <select id="window">
    <option value="10000">last 10 s</option>
    <option value="30000">last 30 s</option>
    <option value="60000">last 1 min</option>
  </select></label>
  <span id="summary"></span>
</header>
<main>
  <section id="graph-section">
    <h2>Service graph</h2>
    <div class="legend">
      <span><i class="healthy"></i>no errors</span><span><i class="degraded"></i>some errors</span>
      <span><i class="failing"></i>5% errors or more</span><span>padlock: mutual TLS (orange: part of the requests)</span>
      <span>edge label: request rate, error rate, p50 and p99 latency, over the window</span>
    </div>
    <div id="notes"></div>
    <svg id="graph" role="img" aria-label="service graph"></svg>
  </section>
  <section id="detail-section" hidden>
    <div id="detail"></div>
  </section>
  <section id="workloads-section">
    <h2>Workloads: config sync and certificates</h2>
    <table>
      <thead><tr><th>Workload</th><th>Client</th><th>Connected</th><th>Sync</th><th>Revision</th><th>NACK error</th><th>Certificate</th><th>Edge reports</th></tr></thead>
      <tbody id="workload-rows"></tbody>
    </table>
  </section>
  <section id="analysis-section">
    <h2>Configuration analysis (weft analyze)</h2>
    <ul id="findings"></ul>
  </section>
</main>`;

export interface DashboardPage {
  readonly html: string;
  /** The Content-Security-Policy that admits exactly this page's inline script and style. */
  readonly contentSecurityPolicy: string;
}

/**
 * The whole dashboard as one self-contained document: HTML, inline CSS and inline script, nothing
 * loaded from anywhere but the agent's own `v1/dashboard/*` routes (relative, so a path prefix
 * added by a reverse proxy works). Built once.
 */
export function dashboardPage(): DashboardPage {
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Weft mesh dashboard</title>
<style>${PAGE_STYLE}</style>
</head>
<body>${BODY}
<script>${DASHBOARD_SCRIPT}</script>
</body>
</html>
`;
  const contentSecurityPolicy = [
    "default-src 'none'",
    `script-src '${sha256(DASHBOARD_SCRIPT)}'`,
    `style-src '${sha256(PAGE_STYLE)}'`,
    "connect-src 'self'",
    "img-src 'self' data:",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
  return { html, contentSecurityPolicy };
}

function sha256(text: string): string {
  return `sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}`;
}

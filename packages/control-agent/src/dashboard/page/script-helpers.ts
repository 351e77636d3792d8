/**
 * The dashboard page's script, part 1 of 3: DOM and formatting helpers. Plain ES2020 for the
 * browser, kept as text and inlined into the page (no bundler, no CDN); the page's
 * Content-Security-Policy admits exactly this script by its hash. Written without template
 * literals so that it can live in one here. Every value from the agent reaches the DOM as text
 * (textContent, attribute values), never as markup.
 */
export const SCRIPT_HELPERS = String.raw`
var SVG_NS = 'http://www.w3.org/2000/svg';

function byId(id) {
  return document.getElementById(id);
}

/** An HTML element with attributes and children (strings become text nodes). */
function h(tag, attributes, children) {
  return build(document.createElement(tag), attributes, children);
}

/** An SVG element, likewise. */
function s(tag, attributes, children) {
  return build(document.createElementNS(SVG_NS, tag), attributes, children);
}

function build(element, attributes, children) {
  var names = Object.keys(attributes || {});
  for (var i = 0; i < names.length; i++) {
    var value = attributes[names[i]];
    if (value === undefined || value === null || value === false) continue;
    element.setAttribute(names[i], String(value));
  }
  (children || []).forEach(function (child) {
    if (child === undefined || child === null) return;
    element.appendChild(typeof child === 'string' || typeof child === 'number' ? document.createTextNode(String(child)) : child);
  });
  return element;
}

function clear(element) {
  while (element.firstChild) element.removeChild(element.firstChild);
  return element;
}

function formatRate(perSecond) {
  if (!perSecond) return '0 rps';
  if (perSecond >= 100) return Math.round(perSecond) + ' rps';
  if (perSecond >= 10) return perSecond.toFixed(1) + ' rps';
  return perSecond.toFixed(2) + ' rps';
}

function formatPercent(ratio) {
  if (!ratio) return '0%';
  var percent = ratio * 100;
  return (percent >= 10 ? percent.toFixed(0) : percent.toFixed(1)) + '%';
}

function formatMs(ms) {
  if (ms === null || ms === undefined) return '-';
  if (ms >= 10000) return '\u226510 s';
  if (ms >= 1000) return (ms / 1000).toFixed(1) + ' s';
  if (ms >= 10) return Math.round(ms) + ' ms';
  return ms.toFixed(1) + ' ms';
}

function formatBytes(bytes) {
  if (bytes >= 1048576) return (bytes / 1048576).toFixed(1) + ' MiB';
  if (bytes >= 1024) return (bytes / 1024).toFixed(1) + ' KiB';
  return bytes + ' B';
}

function formatSpan(ms) {
  var abs = Math.abs(ms);
  if (abs < 1000) return Math.round(abs) + ' ms';
  if (abs < 120000) return Math.round(abs / 1000) + ' s';
  if (abs < 7200000) return Math.round(abs / 60000) + ' min';
  if (abs < 172800000) return Math.round(abs / 3600000) + ' h';
  return Math.round(abs / 86400000) + ' d';
}

function formatMark(mark) {
  return mark ? String(mark.revision) : '-';
}

function shortHost(host) {
  return String(host).split('.')[0];
}
`;

/**
 * The dashboard page's script, part 2 of 3: the service graph, laid out in columns by call depth
 * (callers left, callees right) and drawn as SVG. Versions of one service share a column and sit
 * together; idle versions stand with their busy siblings.
 */
export const SCRIPT_GRAPH = String.raw`
var NODE_WIDTH = 180;
var NODE_HEIGHT = 48;
var COLUMN_GAP = 190;
var ROW_GAP = 26;
var MARGIN = 24;

/** Column per node: longest call chain reaching it, bounded so that a cycle cannot run away. */
function layoutGraph(graph) {
  var nodes = graph.nodes;
  var edges = graph.edges.filter(function (edge) { return edge.from !== edge.to; });
  var column = {};
  var connected = {};
  nodes.forEach(function (node) { column[node.id] = 0; });
  edges.forEach(function (edge) { connected[edge.from] = true; connected[edge.to] = true; });
  for (var pass = 0; pass < nodes.length; pass++) {
    var changed = false;
    edges.forEach(function (edge) {
      var next = column[edge.from] + 1;
      if (column[edge.to] !== undefined && column[edge.to] < next && next < nodes.length) {
        column[edge.to] = next;
        changed = true;
      }
    });
    if (!changed) break;
  }
  var byHost = {};
  nodes.forEach(function (node) {
    if (connected[node.id]) byHost[node.host] = Math.max(byHost[node.host] || 0, column[node.id]);
  });
  nodes.forEach(function (node) {
    if (!connected[node.id] && byHost[node.host] !== undefined) column[node.id] = byHost[node.host];
  });
  var columns = [];
  nodes.forEach(function (node) {
    var index = column[node.id];
    (columns[index] = columns[index] || []).push(node);
  });
  var row = {};
  var predecessors = {};
  edges.forEach(function (edge) { (predecessors[edge.to] = predecessors[edge.to] || []).push(edge.from); });
  columns.forEach(function (members) {
    members.forEach(function (node) {
      var from = (predecessors[node.id] || []).filter(function (id) { return row[id] !== undefined; });
      node.rank = from.length === 0 ? 1e9 : from.reduce(function (sum, id) { return sum + row[id]; }, 0) / from.length;
    });
    // Versions of a service stay together, placed by where their callers are.
    var hostRank = {};
    members.forEach(function (node) { hostRank[node.host] = Math.min(hostRank[node.host] === undefined ? 1e9 : hostRank[node.host], node.rank); });
    members.sort(function (a, b) {
      return hostRank[a.host] - hostRank[b.host] || (a.host < b.host ? -1 : a.host > b.host ? 1 : 0) ||
        String(a.version).localeCompare(String(b.version));
    });
    members.forEach(function (node, index) { row[node.id] = index; });
  });
  var position = {};
  var height = 0;
  columns.forEach(function (members, index) {
    members.forEach(function (node, at) {
      position[node.id] = { x: MARGIN + index * (NODE_WIDTH + COLUMN_GAP), y: MARGIN + at * (NODE_HEIGHT + ROW_GAP) };
      height = Math.max(height, position[node.id].y + NODE_HEIGHT + MARGIN);
    });
  });
  return { position: position, width: MARGIN * 2 + Math.max(1, columns.length) * (NODE_WIDTH + COLUMN_GAP) - COLUMN_GAP, height: Math.max(height, 120) };
}

/** Cuts a name to what a box holds; the box's tooltip has it whole. */
function fit(text, characters) {
  return text.length <= characters ? text : text.slice(0, characters - 1) + '\u2026';
}

function healthClass(edge) {
  if (!edge || !edge.requests) return 'idle';
  if (edge.errorRate >= 0.05) return 'failing';
  if (edge.errorRate > 0) return 'degraded';
  return 'healthy';
}

/** A padlock drawn in SVG (no font needed), for edges over mutual TLS. */
function padlock(x, y, partial) {
  return s('g', { class: partial ? 'lock partial' : 'lock', transform: 'translate(' + x + ',' + y + ')' }, [
    s('path', { d: 'M2 5 V3 a3 3 0 0 1 6 0 V5', fill: 'none' }),
    s('rect', { x: 0, y: 5, width: 10, height: 7, rx: 1.5 }),
  ]);
}

function drawGraph(svgElement, graph, onSelect, selectedHost) {
  clear(svgElement);
  var layout = layoutGraph(graph);
  svgElement.setAttribute('viewBox', '0 0 ' + layout.width + ' ' + layout.height);
  svgElement.setAttribute('width', layout.width);
  svgElement.setAttribute('height', layout.height);
  svgElement.appendChild(s('defs', {}, ['healthy', 'degraded', 'failing', 'idle'].map(function (kind) {
    return s('marker', { id: 'arrow-' + kind, viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' }, [
      s('path', { d: 'M0 0 L10 5 L0 10 z', class: 'arrowhead ' + kind }),
    ]);
  })));
  var inbound = {};
  graph.edges.forEach(function (edge) {
    var sum = inbound[edge.to] || (inbound[edge.to] = { requests: 0, errors: 0 });
    sum.requests += edge.requests;
    sum.errors += edge.errors;
  });
  var fanOut = {};
  var fanIn = {};
  graph.edges.forEach(function (edge) {
    fanOut[edge.from] = (fanOut[edge.from] || 0) + 1;
    fanIn[edge.to] = (fanIn[edge.to] || 0) + 1;
  });
  var edgeLayer = s('g', { class: 'edges' });
  var labelLayer = s('g', { class: 'labels' });
  graph.edges.forEach(function (edge) {
    var from = layout.position[edge.from];
    var to = layout.position[edge.to];
    if (!from || !to) return;
    var kind = healthClass(edge);
    var x1 = from.x + NODE_WIDTH, y1 = from.y + NODE_HEIGHT / 2, x2 = to.x, y2 = to.y + NODE_HEIGHT / 2;
    var c1x, c1y, c2x, c2y;
    if (x2 > x1) {
      var bend = (x2 - x1) / 2;
      c1x = x1 + bend; c1y = y1; c2x = x2 - bend; c2y = y2;
    } else {
      // A call back to an earlier column (or within one) loops below the boxes.
      var low = Math.max(y1, y2) + NODE_HEIGHT;
      c1x = x1 + 60; c1y = low; c2x = x2 - 60; c2y = low;
    }
    var d = 'M' + x1 + ' ' + y1 + ' C' + c1x + ' ' + c1y + ',' + c2x + ' ' + c2y + ',' + x2 + ' ' + y2;
    var width = 1.5 + Math.min(6, Math.log(1 + edge.requestsPerSecond) * 1.6);
    // The label sits where edges spread apart: near the target when its source fans out, near
    // the source when its target gathers several callers.
    var t = (fanIn[edge.to] || 0) > (fanOut[edge.from] || 0) ? 0.4 : 0.6;
    var u = 1 - t;
    var mx = u * u * u * x1 + 3 * u * u * t * c1x + 3 * u * t * t * c2x + t * t * t * x2;
    var my = u * u * u * y1 + 3 * u * u * t * c1y + 3 * u * t * t * c2y + t * t * t * y2 - 8;
    var group = s('g', {
      class: 'edge ' + kind + ' mtls-' + edge.mtls,
      'data-edge-id': edge.id,
      'data-from': edge.from,
      'data-to': edge.to,
      'data-requests': edge.requests,
      'data-errors': edge.errors,
      'data-rps': edge.requestsPerSecond,
      'data-mtls': edge.mtls,
      'data-subsets': edge.subsets.join(','),
    }, [
      s('path', { d: d, 'stroke-width': width.toFixed(2), 'marker-end': 'url(#arrow-' + kind + ')' }),
      s('title', {}, [
        edge.requests + ' requests, ' + edge.errors + ' errors in the window; subsets: ' + (edge.subsets.join(', ') || 'none') +
        '; mTLS: ' + edge.mtls + (edge.faults ? '; injected faults: ' + edge.faults : ''),
      ]),
    ]);
    edgeLayer.appendChild(group);
    var label = s('g', { class: 'edge-label ' + kind, 'data-edge-id': edge.id }, [
      s('text', { x: mx, y: my, 'text-anchor': 'middle', class: 'rate' }, [formatRate(edge.requestsPerSecond) + ' \u00b7 ' + formatPercent(edge.errorRate) + ' err']),
      s('text', { x: mx, y: my + 13, 'text-anchor': 'middle', class: 'latency' }, ['p50 ' + formatMs(edge.p50Ms) + ' \u00b7 p99 ' + formatMs(edge.p99Ms)]),
    ]);
    if (edge.mtls !== 'none') label.appendChild(padlock(mx - 5, my - 26, edge.mtls === 'some'));
    labelLayer.appendChild(label);
  });
  var nodeLayer = s('g', { class: 'nodes' });
  graph.nodes.forEach(function (node) {
    var at = layout.position[node.id];
    var health = healthClass(inbound[node.id] && { requests: inbound[node.id].requests, errors: inbound[node.id].errors, errorRate: inbound[node.id].requests ? inbound[node.id].errors / inbound[node.id].requests : 0 });
    var title = fit(node.kind === 'workload' ? node.name : shortHost(node.name), 20);
    var isCaller = node.kind === 'workload' || node.kind === 'unknown';
    var subtitle = node.kind === 'unknown' ? 'callers outside the mesh' : node.kind === 'workload' ? 'workload ' + node.namespace : node.version === null ? 'no endpoint reached' : node.version;
    var group = s('g', {
      class: 'node ' + node.kind + ' ' + health + (selectedHost === node.host ? ' selected' : ''),
      'data-node-id': node.id,
      'data-host': node.host,
      'data-name': node.name,
      'data-version': node.version === null ? '' : node.version,
      transform: 'translate(' + at.x + ',' + at.y + ')',
      tabindex: 0,
      role: 'button',
    }, [
      s('rect', { width: NODE_WIDTH, height: NODE_HEIGHT, rx: isCaller ? 24 : 6 }),
      s('text', { x: 12, y: 20, class: 'name' }, [title]),
      s('text', { x: 12, y: 37, class: 'version' }, [subtitle + (!isCaller && node.workloads.length ? ' \u00b7 ' + node.workloads.length + (node.workloads.length === 1 ? ' workload' : ' workloads') : '')]),
      s('title', {}, [node.host + (node.workloads.length ? '\nworkloads: ' + node.workloads.join(', ') : '')]),
    ]);
    if (!isCaller) {
      group.addEventListener('click', function () { onSelect(node.host); });
      group.addEventListener('keydown', function (event) { if (event.key === 'Enter') onSelect(node.host); });
    }
    nodeLayer.appendChild(group);
  });
  svgElement.appendChild(edgeLayer);
  svgElement.appendChild(nodeLayer);
  svgElement.appendChild(labelLayer);
}
`;

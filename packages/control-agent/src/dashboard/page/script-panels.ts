/**
 * The dashboard page's script, part 3 of 3: the workload, analysis and service panels, and the
 * live connection (server-sent events, reconnecting on its own; a window selector re-opens it).
 */
export const SCRIPT_PANELS = String.raw`
var current = { state: null, windowMs: 60000, selectedHost: null, source: null, updates: 0, detailAt: 0, detailHost: null };
// /dashboard?scope=mesh draws every agent's edges on a shared etcd, merged; else this agent's clients'.
var scopeQuery = /[?&]scope=mesh(&|$)/.test(location.search) ? '&scope=mesh' : '';

function statusChip(status) {
  return h('span', { class: 'chip ' + String(status).toLowerCase().replace(/[^a-z]+/g, '-') }, [status]);
}

function renderSummary(state) {
  var reporting = state.edgeReporting;
  clear(byId('summary')).appendChild(h('span', {}, [
    'revision ' + formatMark(state.mark) + ' \u00b7 ' + reporting.connectedClients + ' connected clients \u00b7 ' +
    reporting.reportingClients + ' reporting edges \u00b7 updated ' + new Date().toLocaleTimeString(),
  ]));
  var dropped = reporting.dropped;
  var notes = [];
  if (dropped.edges || dropped.requests) notes.push('clients dropped ' + dropped.requests + ' requests on ' + dropped.edges + ' edges past their caps');
  if (dropped.reports) notes.push(dropped.reports + ' edge reports could not be sent');
  if (state.truncated.edges) notes.push('only the busiest edges are drawn');
  var peers = state.peers;
  if (peers) {
    notes.push('merged view: edges of ' + peers.agents.length + (peers.agents.length === 1 ? ' agent' : ' agents') + '; the workloads below are this agent\u2019s clients');
    peers.missing.forEach(function (agent) { notes.push('agent ' + agent.url + ' is missing from the graph: ' + agent.reason); });
    if (peers.directoryError) notes.push(peers.directoryError);
  }
  if (reporting.reportingClients === 0) notes.push('no client reports edges yet: the graph shows registered services only (clients report every few seconds)');
  clear(byId('notes'));
  notes.forEach(function (note) { byId('notes').appendChild(h('p', { class: 'note' }, [note])); });
}

function renderWorkloads(state) {
  var body = clear(byId('workload-rows'));
  if (state.workloads.length === 0) body.appendChild(h('tr', {}, [h('td', { colspan: 8, class: 'empty' }, ['No client has connected to this agent.'])]));
  state.workloads.forEach(function (workload) {
    var certificate = workload.certificate;
    var certText = certificate === null ? 'none reported' :
      (certificate.expiresInMs <= 0 ? 'expired ' + formatSpan(certificate.expiresInMs) + ' ago' : 'expires in ' + formatSpan(certificate.expiresInMs));
    // A SYNCED client is in sync at the revision it acked or a later one that changed nothing it is sent.
    var revision = workload.status === 'NACKED' ? 'refused ' + formatMark(workload.nacked) + ', serving ' + formatMark(workload.acked) :
      workload.status === 'SYNCED' ? formatMark(workload.inSyncAt) : formatMark(workload.acked);
    body.appendChild(h('tr', {
      'data-client-id': workload.clientId,
      'data-workload': workload.workload,
      'data-status': workload.status,
      class: workload.status === 'NACKED' ? 'nacked' : '',
    }, [
      h('td', {}, [workload.namespace + '/' + workload.workload]),
      h('td', { class: 'mono' }, [workload.clientId]),
      h('td', {}, [workload.connected ? 'yes' : 'no']),
      h('td', { class: 'status' }, [statusChip(workload.status)]),
      h('td', {}, [revision]),
      h('td', { class: 'error' }, [workload.error === null ? '' : h('pre', {}, [workload.error])]),
      h('td', { class: certificate !== null && certificate.expiresInMs < 3600000 ? 'warn' : '' }, [
        certText, certificate !== null && certificate.spiffeId ? h('div', { class: 'mono small' }, [certificate.spiffeId]) : null,
      ]),
      h('td', {}, [workload.lastEdgeReportAgoMs === null ? 'none received' : formatSpan(workload.lastEdgeReportAgoMs) + ' ago']),
    ]));
  });
  if (state.truncated.workloads) body.appendChild(h('tr', {}, [h('td', { colspan: 8, class: 'empty' }, ['More clients than shown: see weft proxy-status.'])]));
}

function renderAnalysis(state) {
  var list = clear(byId('findings'));
  if (state.analysis.error !== null) {
    list.appendChild(h('li', { class: 'error' }, ['analyze could not run: ' + state.analysis.error]));
    return;
  }
  if (state.analysis.findings.length === 0) list.appendChild(h('li', { class: 'empty' }, ['No findings: the stored configuration passes every check.']));
  state.analysis.findings.forEach(function (finding) {
    list.appendChild(h('li', { class: 'finding ' + finding.severity }, [
      h('span', { class: 'chip ' + finding.severity }, [finding.severity]), ' ',
      h('span', { class: 'mono' }, [finding.code]), ' ',
      h('b', {}, [finding.resource]), finding.path ? ' ' + finding.path : '', ': ', finding.message,
    ]));
  });
}

function edgeRows(edges, side) {
  if (edges.length === 0) return h('p', { class: 'empty' }, ['No ' + side + ' requests reported in the window.']);
  return h('table', {}, [
    h('thead', {}, [h('tr', {}, ['Source', 'Destination', 'Subset', 'Requests', 'Rate', 'Errors', 'p50', 'p99', 'mTLS', 'Bytes in/out'].map(function (title) { return h('th', {}, [title]); }))]),
    h('tbody', {}, edges.map(function (edge) {
      return h('tr', {}, [
        h('td', {}, [edge.source.workload + ' (' + edge.source.version + ')']),
        h('td', {}, [shortHost(edge.destination.service) + ' ' + edge.destination.version]),
        h('td', {}, [edge.destination.subset || '-']),
        h('td', {}, [String(edge.requests)]),
        h('td', {}, [formatRate(edge.requestsPerSecond)]),
        h('td', {}, [formatPercent(edge.errorRate) + (edge.faults ? ' (' + edge.faults + ' injected)' : '')]),
        h('td', {}, [formatMs(edge.p50Ms)]),
        h('td', {}, [formatMs(edge.p99Ms)]),
        h('td', {}, [edge.mtlsRequests === edge.requests ? 'all' : edge.mtlsRequests === 0 ? 'none' : edge.mtlsRequests + ' of ' + edge.requests]),
        h('td', {}, [formatBytes(edge.requestBytes) + ' / ' + formatBytes(edge.responseBytes)]),
      ]);
    })),
  ]);
}

function resourceBlock(resource) {
  return h('details', { open: true }, [
    h('summary', {}, [resource.kind + ' ' + resource.namespace + '/' + resource.name + ' (resourceVersion ' + resource.resourceVersion + ', generation ' + resource.generation + ')']),
    h('pre', { class: 'spec' }, [JSON.stringify(resource.spec, null, 2)]),
  ]);
}

function renderDetail(detail) {
  var panel = clear(byId('detail'));
  if (detail === null) {
    panel.appendChild(h('p', { class: 'empty' }, ['Nothing in the mesh mentions ' + current.selectedHost + ' any more.']));
    return;
  }
  panel.setAttribute('data-host', detail.host);
  panel.appendChild(h('h2', {}, [detail.name + ' ', h('span', { class: 'mono small' }, [detail.host])]));
  panel.appendChild(h('h3', {}, ['Workloads']));
  if (detail.workloads.length === 0) panel.appendChild(h('p', { class: 'empty' }, ['No registered workload serves it.']));
  else panel.appendChild(h('table', {}, [
    h('thead', {}, [h('tr', {}, ['Workload', 'Version', 'Address', 'Service account', 'Clients'].map(function (title) { return h('th', {}, [title]); }))]),
    h('tbody', {}, detail.workloads.map(function (workload) {
      return h('tr', {}, [
        h('td', {}, [workload.namespace + '/' + workload.name]),
        h('td', {}, [workload.version || '-']),
        h('td', { class: 'mono' }, [workload.address + ' ' + Object.keys(workload.ports).map(function (port) { return port + '\u2192' + workload.ports[port]; }).join(' ')]),
        h('td', {}, [workload.serviceAccount]),
        h('td', {}, workload.clients.length === 0 ? ['none'] : workload.clients.map(function (client) { return h('div', {}, [client.clientId + ' ', statusChip(client.status)]); })),
      ]);
    })),
  ]));
  panel.appendChild(h('h3', {}, ['Routes (VirtualService as applied)']));
  if (detail.virtualServices.length === 0) panel.appendChild(h('p', { class: 'empty' }, ['No VirtualService: requests use the default route to every endpoint.']));
  detail.virtualServices.forEach(function (resource) { panel.appendChild(resourceBlock(resource)); });
  panel.appendChild(h('h3', {}, ['Destination policies (DestinationRule)']));
  if (detail.destinationRules.length === 0) panel.appendChild(h('p', { class: 'empty' }, ['No DestinationRule: no subsets, default policies.']));
  detail.destinationRules.forEach(function (resource) { panel.appendChild(resourceBlock(resource)); });
  var unreported = 'Not reported: none of the clients that call it reports edges (clients of an older version, or edge reporting turned off), so this is unknown.';
  panel.appendChild(h('h3', {}, ['Ejected endpoints (outlier detection)']));
  if (detail.ejections.length > 0) {
    panel.appendChild(h('ul', {}, detail.ejections.map(function (ejection) {
      return h('li', { class: 'ejection' }, [ejection.endpoint + ' in ' + ejection.cluster + ': ' + ejection.reason + ', for ' + formatSpan(ejection.ejectedForMs) + ' (ejection ' + ejection.times + ', seen by ' + ejection.reportedBy + ')']);
    })));
  } else panel.appendChild(h('p', { class: 'empty' }, [detail.reportingCallers > 0 ? 'None: ' + detail.reportingCallers + ' reporting caller(s) hold no endpoint ejected.' : unreported]));
  panel.appendChild(h('h3', {}, ['Recent faults (fault injection)']));
  if (detail.faults.length > 0) {
    panel.appendChild(h('ul', {}, detail.faults.map(function (fault) {
      return h('li', { class: 'fault' }, [fault.route + ': ' + fault.aborts + ' aborts, ' + fault.delays + ' delays' + (fault.overflows ? ', ' + fault.overflows + ' over maxActiveFaults' : '') + ' (reported by ' + fault.reportedBy + ')']);
    })));
  } else panel.appendChild(h('p', { class: 'empty' }, [detail.reportingCallers > 0 ? 'None injected in the window.' : unreported]));
  panel.appendChild(h('h3', {}, ['Inbound']));
  panel.appendChild(edgeRows(detail.inbound, 'inbound'));
  panel.appendChild(h('h3', {}, ['Outbound']));
  panel.appendChild(edgeRows(detail.outbound, 'outbound'));
}

function loadDetail(force) {
  var host = current.selectedHost;
  if (host === null) return;
  var now = Date.now();
  if (!force && current.detailHost === host && now - current.detailAt < 2000) return;
  current.detailAt = now;
  current.detailHost = host;
  fetch('v1/dashboard/services/' + encodeURIComponent(host) + '?windowMs=' + current.windowMs, { headers: { accept: 'application/json' } })
    .then(function (response) { return response.status === 404 ? null : response.json(); })
    .then(function (detail) { if (current.selectedHost === host) renderDetail(detail); })
    .catch(function (error) { clear(byId('detail')).appendChild(h('p', { class: 'error' }, ['Could not load ' + host + ': ' + error])); });
}

function select(host) {
  current.selectedHost = host;
  byId('detail-section').hidden = false;
  if (current.state) drawGraph(byId('graph'), current.state.graph, select, host);
  loadDetail(true);
}

function render() {
  var state = current.state;
  renderSummary(state);
  drawGraph(byId('graph'), state.graph, select, current.selectedHost);
  renderWorkloads(state);
  renderAnalysis(state);
  loadDetail(false);
  current.updates += 1;
  document.body.setAttribute('data-updates', current.updates);
}

function setLive(status) {
  var element = byId('live');
  element.className = 'live ' + status;
  element.textContent = status;
}

function connect() {
  if (current.source) current.source.close();
  setLive('connecting');
  var source = new EventSource('v1/dashboard/events?windowMs=' + current.windowMs + scopeQuery);
  current.source = source;
  source.addEventListener('state', function (event) {
    current.state = JSON.parse(event.data);
    setLive('live');
    render();
  });
  source.onerror = function () { setLive(source.readyState === 2 ? 'disconnected' : 'reconnecting'); };
}

function start() {
  var picker = byId('window');
  picker.value = String(current.windowMs);
  picker.addEventListener('change', function () {
    current.windowMs = Number(picker.value);
    connect();
  });
  connect();
}

start();
`;

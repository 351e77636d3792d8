import { resourceKey } from '../../config/resource.ts';
import type { AnalysisCheck } from '../analysis-check.ts';

export const duplicateServiceEntryHost: AnalysisCheck = {
  code: 'service-entry-host-shadowed',
  severity: 'warning',
  summary:
    'A ServiceEntry host is already defined by a service or an earlier ServiceEntry (in resource order), so this one is ignored.',
  *run({ snapshot }) {
    for (const entry of snapshot.resources.ServiceEntry) {
      for (const [index, host] of entry.spec.hosts.entries()) {
        const winner = snapshot.services.get(host);
        if (winner === undefined || winner.definedBy === resourceKey(entry)) continue;
        const by =
          winner.origin === 'registry'
            ? `the mesh service in namespace "${winner.namespace}"`
            : winner.definedBy;
        yield {
          resource: entry,
          path: `spec.hosts[${index}]`,
          message: `ignored: "${host}" is already defined by ${by}; remove this host, or merge the entries`,
        };
      }
    }
  },
};

// Test doubles for code built on @weft/core: `import { FakeClock } from '@weft/core/testing'`.
// A service's own tests use them too: a fake clock for timing, and a certificate authority and a
// hand-set identity for real TLS and mTLS without an agent.

export {
  createTestCa,
  identityMaterialOf,
  spiffeIdOf,
  type TestCa,
  type TestCaOptions,
  type TestLeaf,
  type TestLeafOptions,
} from './security/identity/test-ca.ts';
export { TestIdentity } from './security/identity/test-identity.ts';
export { FakeClock } from './time/fake-clock.ts';

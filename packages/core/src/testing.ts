// Test doubles for code built on @weft/core: `import { FakeClock } from '@weft/core/testing'`.

export { FakeClock } from './time/fake-clock.ts';

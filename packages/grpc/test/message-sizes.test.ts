import { describe, expect, it } from 'vitest';
import { MessageSizes } from '../src/telemetry/message-sizes.ts';
import { echoService } from './support/echo-service.ts';

// weft.test.EchoRequest { text: 'hello' } is 0x0a 0x05 "hello" (7 bytes); { text: 'hi', count: 2 }
// is 0x0a 0x02 "hi" 0x10 0x02 (6 bytes). gRPC adds a 5-byte prefix to each on the wire.
const get = echoService.Get;
if (get === undefined) throw new Error('echo.proto has no Get');
const hello = get.requestSerialize({ text: 'hello' });
const hiTwice = get.requestSerialize({ text: 'hi', count: 2 });

describe('MessageSizes', () => {
  it('notes the wire size of what a wrapped serializer writes and a client deserializer reads', () => {
    const sizes = new MessageSizes();

    const written = sizes.serializer(get.requestSerialize)({ text: 'hello' });
    expect([written.length, sizes.serialized]).toEqual([7, 12]);
    const read = sizes.deserializer(get.requestDeserialize)(hiTwice);
    expect([read, sizes.deserialized]).toEqual([{ text: 'hi', count: 2 }, 11]);
  });

  it('gives a server request’s size when it is passed on, also after later requests were read first', () => {
    const sizes = new MessageSizes();
    const deserialize = sizes.queuingDeserializer(get.requestDeserialize);

    const first = deserialize(hello);
    const second = deserialize(hiTwice);
    const third = deserialize(hello);

    // Passed on out of order, as calls' queues drain: each still gets its own size.
    expect([sizes.requestSize(second), sizes.requestSize(third), sizes.requestSize(first)]).toEqual([
      11, 12, 12,
    ]);
    expect(sizes.requestSize({ text: 'hello' })).toBe(0);
    expect(sizes.requestSize(undefined)).toBe(0);
  });

  it('cannot keep a queued primitive request: it counts 0, the one read last its size', () => {
    const sizes = new MessageSizes();
    const deserialize = sizes.queuingDeserializer((bytes: Buffer) => bytes.toString('utf8'));

    const first = deserialize(Buffer.from('ab'));
    const second = deserialize(Buffer.from('cde'));

    expect([sizes.requestSize(second), sizes.requestSize(first)]).toEqual([8, 0]);
  });
});

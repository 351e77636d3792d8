/**
 * Bytes gRPC puts before every message on the wire: a compressed flag and a 4-byte length. They
 * travel in HTTP/2 DATA frames, so Envoy counts them in a gRPC call's body bytes; Weft adds them
 * to each message's serialized size the same way (a unary call with a 3-byte request message
 * reports `istio_request_bytes` 8).
 */
export const MESSAGE_PREFIX_BYTES = 5;

type Serializer<T> = (value: T) => Buffer;
type Deserializer<T> = (bytes: Buffer) => T;

/**
 * How a gRPC call's telemetry learns the encoded size of its messages without encoding them
 * twice. The serializers and deserializers of a client's or a server's methods are wrapped once
 * (createMeshClient, MeshServer's `register`) to note the size of each message they write or read,
 * and the mesh's code that sent or received that message reads the note:
 *
 * - grpc-js serializes a message inside the synchronous `sendMessage` the mesh calls, and a
 *   client deserializes a response right before it hands it, synchronously, to the mesh's
 *   listener. There the size passes in a field (`serialized`, `deserialized`) that the wrapper
 *   sets and the mesh reads as soon as the call returns, or as the message arrives: JavaScript
 *   runs one thing at a time, so no other message is written or read in between.
 * - A server deserializes a request as it arrives and queues it until the handler reads it, while
 *   other calls' requests may arrive: there the size is kept by message object (`requestSize`)
 *   until the mesh's interceptor passes the message on. A queued request that deserializes to a
 *   primitive (a custom deserializer returning a string) cannot be looked up, and is not counted.
 *
 * Sizes are of the uncompressed message; with grpc message compression on, Envoy would count the
 * compressed bytes instead.
 */
export class MessageSizes {
  /** Wire bytes of the message a wrapped serializer wrote last. */
  serialized = 0;
  /** Wire bytes of the response a wrapped client deserializer read last. */
  deserialized = 0;
  /**
   * The request a server deserializer read last and its wire bytes, held until it is passed on
   * or the next request is read (one message: a call that never passes it on keeps it no longer).
   */
  #lastRequest: unknown;
  #lastRequestBytes = 0;
  /** Wire bytes of server requests still waiting when a later one was read, by message. */
  readonly #queued = new WeakMap<object, number>();

  /** `serialize`, noting the size of what it writes in `serialized`. */
  serializer<T>(serialize: Serializer<T>): Serializer<T> {
    return (value) => {
      const bytes = serialize(value);
      this.serialized = bytes.length + MESSAGE_PREFIX_BYTES;
      return bytes;
    };
  }

  /** A client's `deserialize`, noting the size of what it reads in `deserialized`. */
  deserializer<T>(deserialize: Deserializer<T>): Deserializer<T> {
    return (bytes) => {
      const value = deserialize(bytes);
      this.deserialized = bytes.length + MESSAGE_PREFIX_BYTES;
      return value;
    };
  }

  /**
   * A server's `deserialize`, keeping the size of each request it reads for requestSize. Most
   * requests are passed on before the next one is read, so the last one waits in a field; only
   * when another arrives first does the waiting one move to the WeakMap (an entry costs ~0.3 µs).
   */
  queuingDeserializer<T>(deserialize: Deserializer<T>): Deserializer<T> {
    return (bytes) => {
      const value = deserialize(bytes);
      const waiting = this.#lastRequest;
      if (typeof waiting === 'object' && waiting !== null) this.#queued.set(waiting, this.#lastRequestBytes);
      this.#lastRequest = value;
      this.#lastRequestBytes = bytes.length + MESSAGE_PREFIX_BYTES;
      return value;
    };
  }

  /** Wire bytes of a request a queuing deserializer read, now passed on; 0 for one it did not read. */
  requestSize(message: unknown): number {
    if (message === this.#lastRequest && message !== undefined) {
      this.#lastRequest = undefined;
      return this.#lastRequestBytes;
    }
    if (typeof message !== 'object' || message === null) return 0;
    return this.#queued.get(message) ?? 0;
  }
}

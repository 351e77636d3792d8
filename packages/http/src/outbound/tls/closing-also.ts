import type { Dispatcher } from 'undici';

/** Something with its own connections to end with a dispatcher. */
interface Closable {
  close(): Promise<void>;
  destroy(): Promise<void>;
}

type Callback = (error: Error | null, data: null) => void;

/**
 * `dispatcher`, whose close() and destroy() also close `also` (the TLS pools, which undici's Agent
 * does not hold). Both call forms work, as on any undici Dispatcher: a promise, or a callback.
 */
export function closingAlso(dispatcher: Dispatcher, also: Closable): Dispatcher {
  const close = (callback?: Callback): Promise<void> | undefined => {
    const done = Promise.all([also.close(), dispatcher.close()]).then(() => undefined);
    return settle(done, callback);
  };
  const destroy = (first?: Error | null | Callback, second?: Callback): Promise<void> | undefined => {
    const error = typeof first === 'function' ? null : (first ?? null);
    const callback = typeof first === 'function' ? first : second;
    const done = Promise.all([also.destroy(), dispatcher.destroy(error)]).then(() => undefined);
    return settle(done, callback);
  };
  return new Proxy(dispatcher, {
    get: (target, key, receiver) => {
      if (key === 'close') return close;
      if (key === 'destroy') return destroy;
      return Reflect.get(target, key, receiver);
    },
  });
}

function settle(done: Promise<void>, callback: Callback | undefined): Promise<void> | undefined {
  if (callback === undefined) return done;
  done.then(
    () => callback(null, null),
    (error: Error) => callback(error, null),
  );
  return undefined;
}

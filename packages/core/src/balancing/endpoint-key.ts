/**
 * `address:port`, bracketing IPv6 addresses (`[::1]:8080`) so the key is unambiguous. The one key
 * of an endpoint: load records, warmup clocks and outlier detection all use it.
 */
export function endpointKey(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

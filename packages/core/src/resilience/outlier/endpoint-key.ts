/**
 * The key outlier detection (and the load balancer asking it) uses for one endpoint:
 * `address:port`, with an IPv6 address in brackets (`[::1]:8080`) so the key stays unambiguous.
 */
export function endpointKey(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

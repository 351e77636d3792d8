/** `Bookinfo.Example.com:8443` → `bookinfo.example.com`; `[::1]:80` → `::1`; undefined if malformed. */
export function hostNameOf(authority: string | undefined): string | undefined {
  if (authority === undefined || authority === '') return undefined;
  try {
    const name = new URL(`http://${authority}`).hostname;
    if (name === '') return undefined;
    return name.startsWith('[') ? name.slice(1, -1) : name;
  } catch {
    return undefined;
  }
}

/** IAM's string matching (StringLike conditions, resource ARNs): `*` any run of characters, `/` included; `?` one character. */
export function matchesIamPattern(pattern: string, value: string): boolean {
  const regex = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${regex}$`, 's').test(value);
}

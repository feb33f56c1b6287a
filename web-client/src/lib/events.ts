// Event-type patterns for webhook subscriptions (`integration.*`, `custom.*`, `*`).

/** Groups event type names by their first segment: integration.created → "integration". */
export function groupEventTypes(names: string[]): { group: string; names: string[] }[] {
  const groups = new Map<string, string[]>();
  for (const name of [...names].sort()) {
    const group = name.split('.')[0] || name;
    if (!groups.has(group)) groups.set(group, []);
    groups.get(group)!.push(name);
  }
  return [...groups.entries()].map(([group, list]) => ({ group, names: list }));
}

/** True when `pattern` (exact, `prefix.*`, or `*`) covers `name`. */
export function patternMatches(pattern: string, name: string): boolean {
  if (pattern === '*') return true;
  if (pattern.endsWith('.*')) return name.startsWith(pattern.slice(0, -1));
  return pattern === name;
}

/** Drops exact names that a selected wildcard already covers; keeps order, no duplicates. */
export function normalizeSelection(selected: string[]): string[] {
  const unique = [...new Set(selected.map((s) => s.trim()).filter(Boolean))];
  const wildcards = unique.filter((s) => s === '*' || s.endsWith('.*'));
  return unique.filter((s) => wildcards.includes(s) || !wildcards.some((w) => patternMatches(w, s)));
}

/** Validates a pattern typed by hand. */
export function isValidPattern(pattern: string): boolean {
  return pattern === '*' || /^[a-z0-9_-]+(\.[a-z0-9_-]+)*(\.\*)?$/i.test(pattern);
}

/** A list typed as text: items separated by commas, spaces or new lines, trimmed, empty ones dropped. */
export function splitList(text: string): string[] {
  return text
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter(Boolean);
}

/**
 * The API's errors for a list field typed as one text input: the list's own ("owners") and its items' ("owners[1]"),
 * each item's naming the item (unless the API's message already quotes it), joined into one message for the input.
 */
export function listFieldError(errors: Record<string, string>, field: string, items: string[]): string | undefined {
  const messages: string[] = [];
  for (const [name, message] of Object.entries(errors)) {
    if (name === field) messages.push(message);
    const m = name.match(/^(.+)\[(\d+)\]$/);
    if (m && m[1] === field) {
      const item = items[Number(m[2])];
      messages.push(item === undefined || message.includes(item) ? message : `${item}: ${message}`);
    }
  }
  return messages.length ? messages.join("; ") : undefined;
}

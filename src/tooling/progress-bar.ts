/** A one-line progress bar on stderr (a plain line per update when stderr is not a terminal). */
export function renderProgress(label: string, done: number, total: number): void {
  const ratio = total === 0 ? 1 : Math.min(1, done / total);
  const width = 30;
  const filled = Math.round(ratio * width);
  const line = `${label} [${'#'.repeat(filled)}${' '.repeat(width - filled)}] ${Math.round(ratio * 100)}% ${done}/${total} events`;
  if (process.stderr.isTTY) process.stderr.write(`\r${line}`);
  else process.stderr.write(`${line}\n`);
}

/**
 * Waits, when the current clock minute ends within `marginMs`, for the next
 * one. requestsPerMinute counts in clock-minute windows: a test whose starts
 * straddle a minute's end sees its count reset halfway through.
 */
export async function clearOfMinuteEnd(marginMs = 5_000): Promise<void> {
  const left = 60_000 - (Date.now() % 60_000);
  if (left < marginMs) await new Promise((resolve) => setTimeout(resolve, left + 10));
}

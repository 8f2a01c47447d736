import type { Completion } from '../domain/completions/completion-record.js';
import type { CompletionEvent } from '../domain/completions/completion-event.js';

// Events cross process boundaries as JSON text. JSON has no bigint and no
// Date, so money travels as a decimal string and instants as ISO-8601 (a Date
// holds milliseconds, which ISO keeps exactly). Which fields of the completion
// were converted is written next to it, by name: the row may carry more than
// its table's columns (the settlement's fields), and its JSON columns hold
// caller input, so no in-band marker could be told apart from data.

type Row = Record<string, unknown>;

interface WireCompletion {
  row: Row;
  bigints: string[];
  dates: string[];
}

interface WireEvent extends Omit<CompletionEvent, 'cost' | 'completion'> {
  cost: string;
  completion: WireCompletion | null;
}

function encodeCompletion(completion: Completion): WireCompletion {
  const wire: WireCompletion = { row: { ...completion }, bigints: [], dates: [] };
  for (const [field, value] of Object.entries(wire.row)) {
    if (typeof value === 'bigint') {
      wire.row[field] = String(value);
      wire.bigints.push(field);
    } else if (value instanceof Date) {
      wire.row[field] = value.toISOString();
      wire.dates.push(field);
    }
  }
  return wire;
}

function decodeCompletion({ row, bigints, dates }: WireCompletion): Completion {
  const completion: Row = { ...row };
  for (const field of bigints) completion[field] = BigInt(completion[field] as string);
  for (const field of dates) completion[field] = new Date(completion[field] as string);
  return completion as Completion;
}

export function encodeEvent(event: CompletionEvent): string {
  const wire: WireEvent = { ...event, cost: String(event.cost), completion: event.completion && encodeCompletion(event.completion) };
  return JSON.stringify(wire);
}

export function decodeEvent(text: string): CompletionEvent {
  const wire = JSON.parse(text) as WireEvent;
  return { ...wire, cost: BigInt(wire.cost), completion: wire.completion && decodeCompletion(wire.completion) };
}

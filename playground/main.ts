import './style.css';
import {
  cancelCompletion,
  fetchAccount,
  fetchModels,
  GatewayError,
  startCompletion,
  streamCompletion,
  type CompletionInput,
  type ModelInfo,
  type StreamEvent,
} from './gateway.js';

// sessionStorage, not localStorage: the key is gone when the tab closes.
const keyStorage = 'tokenhub.playground.apiKey';

function element<T extends HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (!found) throw new Error(`the page lacks #${id}`);
  return found as T;
}

const form = element<HTMLFormElement>('request');
const keyInput = element<HTMLInputElement>('api-key');
const forgetKey = element<HTMLButtonElement>('forget-key');
const account = element<HTMLParagraphElement>('account');
const modelSelect = element<HTMLSelectElement>('model');
const modelPrice = element<HTMLParagraphElement>('model-price');
const systemInput = element<HTMLTextAreaElement>('system');
const userInput = element<HTMLTextAreaElement>('user');
const maxTokensInput = element<HTMLInputElement>('max-tokens');
const temperatureInput = element<HTMLInputElement>('temperature');
const startButton = element<HTMLButtonElement>('start');
const cancelButton = element<HTMLButtonElement>('cancel');
const errorBox = element<HTMLParagraphElement>('error');
const statusBadge = element<HTMLSpanElement>('status');
const output = element<HTMLDivElement>('output');
const outputTokens = element<HTMLElement>('output-tokens');
const runningCost = element<HTMLElement>('running-cost');
const finalCost = element<HTMLElement>('final-cost');
const completionId = element<HTMLElement>('completion-id');

let models: ModelInfo[] = [];

/** The completion in flight, if any. */
let run: { key: string; id: string | null; cancelRequested: boolean } | null = null;

function showError(message: string | null): void {
  errorBox.textContent = message ?? '';
  errorBox.hidden = message === null;
}

function describe(error: unknown): string {
  if (error instanceof GatewayError) return error.code ? `${error.message} (${error.code})` : error.message;
  return error instanceof Error ? error.message : String(error);
}

function setStatus(status: string, label = status.charAt(0) + status.slice(1).toLowerCase()): void {
  statusBadge.dataset.status = status;
  statusBadge.textContent = label;
}

function setRunning(running: boolean): void {
  startButton.disabled = running;
  cancelButton.disabled = !running;
  output.setAttribute('aria-busy', String(running));
}

function selectedModel(): ModelInfo | undefined {
  return models.find((model) => model.id === modelSelect.value);
}

function describeModel(): void {
  const model = selectedModel();
  if (!model) {
    modelPrice.textContent = '';
    return;
  }
  modelPrice.textContent =
    `${model.recommended ? 'Recommended. ' : ''}${model.inputPricePerMillion} credits per million input tokens, ` +
    `${model.outputPricePerMillion} per million output tokens; at most ${model.maxOutputTokens} output tokens.`;
  maxTokensInput.max = String(model.maxOutputTokens);
  if (Number(maxTokensInput.value) > model.maxOutputTokens) maxTokensInput.value = String(model.maxOutputTokens);
}

async function loadModels(): Promise<void> {
  try {
    models = await fetchModels();
  } catch (error) {
    modelSelect.replaceChildren(new Option('Models could not be loaded', ''));
    showError(`The model list could not be loaded: ${describe(error)}`);
    return;
  }
  const choice = models.find((model) => model.recommended && model.enabled) ?? models.find((model) => model.enabled);
  modelSelect.replaceChildren(
    ...models.map((model) => {
      const option = new Option(
        `${model.name}: ${model.inputPricePerMillion} in / ${model.outputPricePerMillion} out${model.enabled ? '' : ' (disabled)'}`,
        model.id,
        false,
        model === choice,
      );
      option.disabled = !model.enabled;
      return option;
    }),
  );
  describeModel();
}

let accountLookup = 0;
async function showAccount(): Promise<void> {
  const key = keyInput.value.trim();
  const lookup = ++accountLookup;
  if (!key) {
    account.textContent = '';
    return;
  }
  let text: string;
  try {
    const viewer = await fetchAccount(key);
    text = viewer
      ? `Account “${viewer.name}”: ${viewer.available} credits available.`
      : 'This is the admin token: completions need an API key (th-…) of an account.';
  } catch (error) {
    text = `This key is not accepted: ${describe(error)}`;
  }
  // A slower answer for an older key must not overwrite a newer one.
  if (lookup === accountLookup) account.textContent = text;
}

let keyTyping: ReturnType<typeof setTimeout> | undefined;
keyInput.addEventListener('input', () => {
  const key = keyInput.value.trim();
  if (key) sessionStorage.setItem(keyStorage, key);
  else sessionStorage.removeItem(keyStorage);
  clearTimeout(keyTyping);
  keyTyping = setTimeout(() => void showAccount(), 300);
});

forgetKey.addEventListener('click', () => {
  sessionStorage.removeItem(keyStorage);
  keyInput.value = '';
  account.textContent = '';
  keyInput.focus();
});

modelSelect.addEventListener('change', describeModel);

/** The request as the form describes it, or a message saying what to fix. */
function readInput(): CompletionInput | string {
  const model = selectedModel();
  if (!model) return 'Pick a model.';
  const user = userInput.value.trim();
  if (!user) return 'Write a user message.';
  const maxTokens = Number(maxTokensInput.value);
  if (!Number.isInteger(maxTokens) || maxTokens < 1 || maxTokens > model.maxOutputTokens) {
    return `Max tokens must be a whole number from 1 to ${model.maxOutputTokens} for ${model.name}.`;
  }
  const temperatureText = temperatureInput.value.trim();
  const temperature = Number(temperatureText);
  if (temperatureText && !(temperature >= 0 && temperature <= 1)) return 'Temperature must be between 0 and 1, or empty for the model’s default.';
  const system = systemInput.value.trim();
  return {
    model: model.id,
    messages: [...(system ? [{ role: 'system' as const, content: system }] : []), { role: 'user' as const, content: user }],
    maxTokens,
    ...(temperatureText ? { temperature } : {}),
  };
}

function resetAnswer(): Text {
  const text = document.createTextNode('');
  output.replaceChildren(text);
  outputTokens.textContent = '0';
  runningCost.textContent = '–';
  finalCost.textContent = '–';
  completionId.textContent = '–';
  return text;
}

function render(event: StreamEvent, text: Text): void {
  // Follow the text only when the reader has not scrolled up to reread it.
  const following = output.scrollTop + output.clientHeight >= output.scrollHeight - 8;
  if (event.delta) text.appendData(event.delta);
  if (following) output.scrollTop = output.scrollHeight;
  outputTokens.textContent = String(event.outputTokens);
  runningCost.textContent = event.cost;
  if (!event.done) {
    if (statusBadge.dataset.status === 'PENDING') setStatus('STREAMING');
    return;
  }
  const settled = event.completion;
  if (!settled) return;
  setStatus(settled.status);
  finalCost.textContent = settled.cost ?? '0.00';
  if (settled.usage) outputTokens.textContent = `${settled.usage.completionTokens}${settled.usage.estimated ? ' (estimated)' : ''}`;
  if (settled.error && settled.status !== 'CANCELLED') showError(`${settled.error.message} (${settled.error.code})`);
}

async function start(): Promise<void> {
  showError(null);
  const key = keyInput.value.trim();
  if (!key) {
    showError('Paste an API key (th-…) first.');
    keyInput.focus();
    return;
  }
  const input = readInput();
  if (typeof input === 'string') {
    showError(input);
    return;
  }
  const text = resetAnswer();
  const current = { key, id: null as string | null, cancelRequested: false };
  run = current;
  setRunning(true);
  setStatus('STARTING', 'Starting…');
  try {
    const started = await startCompletion(key, input);
    current.id = started.id;
    completionId.textContent = started.id;
    if (current.cancelRequested) void cancel();
    else setStatus(started.status);
    await streamCompletion(key, started.id, (event) => render(event, text));
  } catch (error) {
    showError(describe(error));
    // The completion goes on (and is charged) on the server even when this
    // page lost it; its id is on screen, and the completion query finds it.
    if (!current.id) setStatus('IDLE');
    else if (finalCost.textContent === '–') setStatus('DISCONNECTED', 'Connection lost');
  } finally {
    run = null;
    setRunning(false);
    void showAccount();
  }
}

async function cancel(): Promise<void> {
  const current = run;
  if (!current) return;
  cancelButton.disabled = true;
  setStatus('CANCELLING', 'Cancelling…');
  // Clicked before the start was answered: cancel as soon as the id is known.
  if (!current.id) {
    current.cancelRequested = true;
    return;
  }
  try {
    await cancelCompletion(current.key, current.id);
  } catch (error) {
    showError(describe(error));
  }
}

form.addEventListener('submit', (event) => {
  event.preventDefault();
  if (!run) void start();
});
cancelButton.addEventListener('click', () => void cancel());
// Ctrl+Enter (⌘+Enter on a Mac) starts from any field, as in most chat tools.
form.addEventListener('keydown', (event) => {
  if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) form.requestSubmit();
});

keyInput.value = sessionStorage.getItem(keyStorage) ?? '';
void loadModels();
void showAccount();

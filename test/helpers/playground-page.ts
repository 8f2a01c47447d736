import type { Browser, Page } from 'playwright-core';

/**
 * The playground as a user drives it, by its labels and the ids its page
 * promises (#status, #output, #final-cost …), so tests and the screenshot
 * script read the same way.
 */
export class PlaygroundPage {
  private constructor(readonly page: Page) {}

  /** Opens the playground at `baseUrl` and waits for the model list; `watch` sees the page before it loads. */
  static async open(browser: Browser, baseUrl: string, viewport = { width: 1280, height: 800 }, watch?: (page: Page) => void): Promise<PlaygroundPage> {
    const page = await browser.newPage({ viewport });
    watch?.(page);
    await page.goto(baseUrl);
    await page.waitForSelector('#model option[value^="anthropic/"]', { state: 'attached' });
    return new PlaygroundPage(page);
  }

  async fill(fields: { key?: string; system?: string; user?: string; maxTokens?: number; temperature?: number }): Promise<void> {
    if (fields.key !== undefined) await this.page.getByLabel('API key').fill(fields.key);
    if (fields.system !== undefined) await this.page.getByLabel('System message').fill(fields.system);
    if (fields.user !== undefined) await this.page.getByLabel('User message').fill(fields.user);
    if (fields.maxTokens !== undefined) await this.page.getByLabel('Max tokens').fill(String(fields.maxTokens));
    if (fields.temperature !== undefined) await this.page.getByLabel('Temperature').fill(String(fields.temperature));
  }

  async start(): Promise<void> {
    await this.page.getByRole('button', { name: 'Start' }).click();
  }

  async cancel(): Promise<void> {
    await this.page.getByRole('button', { name: 'Cancel' }).click();
  }

  status(): Promise<string | null> {
    return this.page.locator('#status').getAttribute('data-status');
  }

  async waitForStatus(status: string, timeout = 10_000): Promise<void> {
    await this.page.waitForSelector(`#status[data-status="${status}"]`, { timeout });
  }

  async output(): Promise<string> {
    return (await this.page.locator('#output').textContent()) ?? '';
  }

  /** Waits until the answer is longer than `length` characters and returns it. */
  async waitForOutputLongerThan(length: number, timeout = 10_000): Promise<string> {
    await this.page.waitForFunction((n) => (document.getElementById('output')?.textContent ?? '').length > n, length, { timeout });
    return this.output();
  }

  async text(id: 'final-cost' | 'running-cost' | 'output-tokens' | 'completion-id' | 'error' | 'account' | 'model-price'): Promise<string> {
    return (await this.page.locator(`#${id}`).textContent()) ?? '';
  }
}

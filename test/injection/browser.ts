/**
 * Headless Chromium for the injection tests: a document is loaded (HTML text, or a file URL
 * such as an SVG), and whatever ran is reported. Every hostile payload in these tests sets
 * `window.__pwned` or opens a dialog when it runs, so "nothing ran" is an empty list.
 * playwright-core drives /usr/bin/chromium (MEMLOSS_CHROMIUM overrides) with --headless
 * --no-sandbox --disable-gpu and a fresh user data dir. Under CI=true a missing browser is a
 * failure; elsewhere the tests skip, saying why (test/numeric/webgpu-browser.test.ts does the same).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

export const CI = process.env.CI !== undefined && process.env.CI !== '' && process.env.CI !== 'false';
export const CHROMIUM = process.env.MEMLOSS_CHROMIUM ?? '/usr/bin/chromium';
export const haveBrowser = existsSync(CHROMIUM);
export const noBrowser = `no Chromium at ${CHROMIUM} (apt-get install chromium)`;

export interface Browser {
  /** What ran while the document loaded: `window.__pwned = …` and dialogs; [] when nothing did. */
  ran(doc: { html: string } | { url: string }): Promise<string[]>;
  /** Evaluates fn in a loaded document (for checks on the rendered page). */
  inspect<T>(url: string, fn: () => T): Promise<T>;
  close(): Promise<void>;
}

export async function openBrowser(): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), 'memloss-chromium-'));
  const context: BrowserContext = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    timeout: 30_000,
    env: { ...process.env, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? '/tmp' },
  });
  const load = async (doc: { html: string } | { url: string }) => {
    const page = await context.newPage();
    const seen: string[] = [];
    page.on('dialog', (d) => {
      seen.push(`${d.type()}(${JSON.stringify(d.message())})`);
      void d.dismiss();
    });
    if ('html' in doc) await page.setContent(doc.html, { waitUntil: 'load' });
    else await page.goto(doc.url, { waitUntil: 'load' });
    // error handlers of broken images and the like fire around the load event: give them time
    await page.waitForTimeout(300);
    return { page, seen };
  };
  return {
    async ran(doc) {
      const { page, seen } = await load(doc);
      const flag = await page.evaluate(() => (globalThis as { __pwned?: unknown }).__pwned);
      if (flag !== undefined) seen.push(`window.__pwned = ${String(flag)}`);
      await page.close();
      return seen;
    },
    async inspect(url, fn) {
      const { page } = await load({ url });
      const out = await page.evaluate(fn);
      await page.close();
      return out;
    },
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

const ENTITY: ReadonlyMap<string, string> = new Map([['&', '&amp;'], ['<', '&lt;'], ['>', '&gt;'], ['"', '&quot;']]);
const escapeHtml = (s: string) => s.replace(/[&<>"]/g, (c) => ENTITY.get(c)!);
/** The backslash escapes Python-Markdown honours (with its tables extension): `\<` is not one. */
const PY_ESCAPES = new Set('\\`*_{}[]()>#+-.!|');

/** Splits a table row at the | that are not backslash-escaped. */
export function tableCells(row: string): string[] {
  const cells: string[] = [];
  let cur = '';
  for (let i = 0; i < row.length; i++) {
    if (row[i] === '\\' && i + 1 < row.length) { cur += row[i]! + row[i + 1]!; i++; continue; }
    if (row[i] === '|') { cells.push(cur); cur = ''; continue; }
    cur += row[i];
  }
  cells.push(cur);
  return cells.slice(1, -1).map((c) => c.trim());
}

/**
 * Markdown to HTML, as laxly as the renderers in use and no laxer: raw HTML passes through
 * untouched (Python-Markdown and GitHub's sanitizer-less previews do), backslash escapes
 * are honoured only for Python-Markdown's characters, code spans are literal, images are
 * <img>, table rows become cells split at unescaped |. A report that stays inert here stays
 * inert in a real renderer.
 */
export function laxMarkdown(md: string): string {
  const inline = (s: string): string => {
    let out = '';
    for (let i = 0; i < s.length;) {
      const rest = s.slice(i);
      const fence = /^`+/.exec(rest)?.[0];
      if (fence) {
        const span = new RegExp(`^${fence}([\\s\\S]*?[^\`])${fence}(?!\`)`).exec(rest);
        if (span) { out += `<code>${escapeHtml(span[1]!.trim())}</code>`; i += span[0].length; continue; }
      }
      const image = /^!\[([^\]]*)\]\(([^)\s]+)\)/.exec(rest);
      if (image) { out += `<img alt="${escapeHtml(image[1]!)}" src="${escapeHtml(image[2]!)}">`; i += image[0].length; continue; }
      if (s[i] === '\\' && PY_ESCAPES.has(s[i + 1] ?? '')) { out += escapeHtml(s[i + 1]!); i += 2; continue; }
      out += s[i];
      i++;
    }
    return out;
  };
  const body: string[] = [];
  let fenced = false;
  for (const line of md.split('\n')) {
    if (line.startsWith('```')) { body.push(fenced ? '</pre>' : '<pre>'); fenced = !fenced; continue; }
    if (fenced) { body.push(escapeHtml(line)); continue; }
    if (/^\|[-| ]+\|$/.test(line)) continue;
    if (line.startsWith('|')) body.push(`<table><tr>${tableCells(line).map((c) => `<td>${inline(c)}</td>`).join('')}</tr></table>`);
    else if (/^#+ /.test(line)) body.push(`<h2>${inline(line.replace(/^#+ /, ''))}</h2>`);
    else if (line.startsWith('- ')) body.push(`<li>${inline(line.slice(2))}</li>`);
    else if (line.startsWith('<!--')) body.push(line);
    else if (line) body.push(`<p>${inline(line)}</p>`);
  }
  return `<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>report</title></head><body>\n${body.join('\n')}\n</body></html>\n`;
}

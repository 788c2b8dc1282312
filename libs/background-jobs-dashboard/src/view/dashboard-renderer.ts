import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { Inject, Injectable } from '@nestjs/common';
import type { Request, Response } from 'express';
import * as hbs from 'hbs';
import { JOB_STATES } from '@app/background-jobs/admin/background-jobs-admin.types';
import { DASHBOARD_OPTIONS } from '../dashboard.tokens';
import type { ResolvedDashboardOptions } from '../dashboard.options';
import { STATE_LABELS } from './state-labels';

export const VIEWS_DIR = join(__dirname, '..', 'views');

const NAV_STATES = JOB_STATES.map((state) => ({ state, label: STATE_LABELS[state].label }));

export type PageName = 'overview' | 'list' | 'job' | 'workers' | 'schedules' | 'error';

export interface Alert {
  type: 'success' | 'danger' | 'warning' | 'info';
  text: string;
}

/** What every page is given besides its own model. */
export interface PageBase {
  title: string;
  alerts?: Alert[];
  /** Which tab of the dashboard's navigation is this page's. */
  tab?: string;
}

type Template = (context: unknown) => string;
type Sections = Record<string, string[]>;
interface HelperOptions {
  fn: (context: unknown) => string;
  data: { root: { _sections?: Sections } };
}

/**
 * Renders the dashboard's pages with its own Handlebars instance, so it needs nothing of the host
 * app's view engine: each page, then the layout around it (the host's when `layout` names one, as
 * the web app gives its own). The layout contract is the seed's: `{{{body}}}`, `title`, `alerts`
 * and the sections a page fills with `{{#section "scripts"}}` (the same helpers as the web app's
 * view-engine.ts). Everything a page shows goes through `{{ }}`, which escapes it.
 */
@Injectable()
export class DashboardRenderer {
  private readonly pages = new Map<string, Template>();
  private readonly layout: Template;

  constructor(@Inject(DASHBOARD_OPTIONS) private readonly options: ResolvedDashboardOptions) {
    const handlebars = hbs.create().handlebars;
    handlebars.registerHelper('section', function (this: unknown, name: string, helper: HelperOptions) {
      const sections = (helper.data.root._sections ??= {});
      (sections[name] ??= []).push(helper.fn(this));
      return null;
    });
    handlebars.registerHelper(
      'renderSection',
      (name: string, helper: HelperOptions) =>
        new handlebars.SafeString((helper.data.root._sections?.[name] ?? []).join('\n')),
    );
    handlebars.registerHelper('eq', (a: unknown, b: unknown) => a === b);
    handlebars.registerHelper('or', (a: unknown, b: unknown) => Boolean(a) || Boolean(b));
    const partials = join(VIEWS_DIR, 'partials');
    for (const file of readdirSync(partials).filter((f) => f.endsWith('.hbs'))) {
      handlebars.registerPartial(basename(file, '.hbs'), readFileSync(join(partials, file), 'utf8'));
    }
    for (const file of readdirSync(VIEWS_DIR).filter((f) => f.endsWith('.hbs') && f !== 'layout.hbs')) {
      this.pages.set(basename(file, '.hbs'), handlebars.compile(readFileSync(join(VIEWS_DIR, file), 'utf8')));
    }
    const layoutFile = options.layout ?? join(VIEWS_DIR, 'layout.hbs');
    this.layout = handlebars.compile(readFileSync(layoutFile, 'utf8'));
  }

  /** Renders `page` in the layout; pages carry live data and a CSRF token, so no cache keeps them. */
  render(req: Request, res: Response, page: PageName, model: PageBase & Record<string, unknown>, status = 200): void {
    const locals: Record<string, unknown> = {
      ...model,
      alerts: model.alerts ?? [],
      jobsPath: this.options.path,
      base: this.options.path,
      readOnly: this.options.readOnly,
      navStates: NAV_STATES,
      csrfToken: csrfTokenOf(req),
      _sections: {},
    };
    locals.body = this.pages.get(page)!(locals);
    res.set({ 'Cache-Control': 'no-cache, no-store', Pragma: 'no-cache' });
    res.status(status).type('html').send(this.layout(locals));
  }
}

/** The host's CSRF token (csrf-csrf's `req.csrfToken`, as the web app installs it), when it has one. */
function csrfTokenOf(req: Request): string | undefined {
  const generate = (req as { csrfToken?: () => string }).csrfToken;
  return typeof generate === 'function' ? generate() : undefined;
}

import type { Request, Response } from 'express';
import type { Alert } from './flash';

/** Renders the index page with a fresh CSRF token; the error filter uses it too. */
export function renderIndex(req: Request, res: Response, model: { alerts: Alert[]; reportContent?: string }, status = 200): void {
  res.status(status).render('index', {
    title: 'Home',
    csrfToken: req.csrfToken?.() ?? '',
    alerts: model.alerts,
    reportContent: model.reportContent,
  });
}

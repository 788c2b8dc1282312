import type { Request, Response } from 'express';
import type { Alert } from './flash';
import { newSubmissionId } from './submission-id';

export interface IndexModel {
  alerts: Alert[];
  reportContent?: string;
  /** The form's one-time submission id: kept when the page answers a post, fresh otherwise. */
  submissionId?: string;
}

/** Renders the index page with a fresh CSRF token; the error filter uses it too. */
export function renderIndex(req: Request, res: Response, model: IndexModel, status = 200): void {
  // As ASP.NET Core's antiforgery does: a page with a token and a one-time alert must never come
  // back from the HTTP cache (Back would show "Job is queued!" again, with a stale token).
  res.set({ 'Cache-Control': 'no-cache, no-store', Pragma: 'no-cache' });
  res.status(status).render('index', {
    title: 'Home',
    csrfToken: req.csrfToken?.() ?? '',
    alerts: model.alerts,
    reportContent: model.reportContent,
    submissionId: model.submissionId ?? newSubmissionId(),
  });
}

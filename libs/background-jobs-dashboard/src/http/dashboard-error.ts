/** A refusal or failure the dashboard answers itself: a page for the pages, `{ message }` for the API. */
export class DashboardError extends Error {
  override readonly name = 'DashboardError';

  constructor(
    readonly status: number,
    message: string,
    readonly details: {
      headers?: Record<string, string>;
      /** Access refused: the page shows the message and nothing of the dashboard, not even its tabs. */
      accessDenied?: boolean;
    } = {},
  ) {
    super(message);
  }
}

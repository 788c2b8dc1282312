import type { Request, Response } from 'express';

const FLASH_COOKIE = 'bj.flash';

export interface Alert {
  type: 'success' | 'danger' | 'warning';
  text: string;
}

/** A one-time message for Post/Redirect/Get, in a signed cookie read once by the next page. */
export function setFlash(res: Response, alert: Alert): void {
  res.cookie(FLASH_COOKIE, JSON.stringify(alert), {
    signed: true,
    httpOnly: true,
    sameSite: 'lax',
    path: '/',
    maxAge: 60_000,
    secure: res.req.secure,
  });
}

export function takeFlash(req: Request, res: Response): Alert[] {
  const raw = req.signedCookies?.[FLASH_COOKIE] as string | undefined;
  if (raw === undefined) return [];
  res.clearCookie(FLASH_COOKIE, { path: '/' });
  try {
    const alert = JSON.parse(raw) as Alert;
    return typeof alert?.text === 'string' ? [alert] : [];
  } catch {
    return [];
  }
}

import { CanActivate, ExecutionContext, Inject, Injectable, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import type { Actor } from '@app/background-jobs/admin/background-jobs-admin.types';
import { DASHBOARD_OPTIONS } from '../dashboard.tokens';
import type { ResolvedDashboardOptions } from '../dashboard.options';
import { DashboardError } from '../http/dashboard-error';
import { AccessDecision, decideAccess } from './access-rules';
import { refuseWrite } from './write-rules';

const IS_API = 'background-jobs-dashboard:api';

/** Marks the JSON API's controller: its writes need `Content-Type: application/json`. */
export const DashboardApi = () => SetMetadata(IS_API, true);

const actors = new WeakMap<Request, Actor>();

/** Who the guard let in for this request: the name an action's log line gives. */
export function actorOf(req: Request): Actor {
  const actor = actors.get(req);
  if (!actor) throw new Error('The dashboard access guard has not run for this request');
  return actor;
}

/** Whether the guard has let this request in (false: refused, or it failed before the guard ran). */
export function wasLetIn(req: Request): boolean {
  return actors.has(req);
}

/** The refusal for a request the rules do not let in, or undefined when they do. */
export async function accessRefusal(
  req: Request,
  options: ResolvedDashboardOptions,
): Promise<DashboardError | undefined> {
  const decision = await decideAccess(req, options);
  return decision.allowed ? undefined : refusalOf(decision);
}

function refusalOf(decision: Extract<AccessDecision, { allowed: false }>): DashboardError {
  const headers: Record<string, string> = decision.challenge ? { 'WWW-Authenticate': decision.challenge } : {};
  return new DashboardError(decision.status, decision.message, { headers, accessDenied: true });
}

const READ_METHODS = new Set(['GET', 'HEAD']);

/** Every dashboard route: who may see it (access-rules.ts), and for writes what they must pass (write-rules.ts). */
@Injectable()
export class DashboardAccessGuard implements CanActivate {
  constructor(
    @Inject(DASHBOARD_OPTIONS) private readonly options: ResolvedDashboardOptions,
    private readonly reflector: Reflector,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<Request>();
    const decision = await decideAccess(req, this.options);
    if (!decision.allowed) throw refusalOf(decision);
    actors.set(req, decision.actor);
    if (!READ_METHODS.has(req.method)) {
      const api = this.reflector.get<boolean | undefined>(IS_API, context.getClass()) === true;
      const refusal = refuseWrite(req.headers, { readOnly: this.options.readOnly, api });
      if (refusal) throw new DashboardError(refusal.status, refusal.message);
    }
    return true;
  }
}

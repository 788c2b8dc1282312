import { dirname, join } from 'node:path';
import { Controller, Get, Param, Res, UseFilters, UseGuards } from '@nestjs/common';
import type { Response } from 'express';
import { DashboardAccessGuard } from '../access/dashboard-access.guard';
import { DashboardError } from '../http/dashboard-error';
import { DashboardExceptionFilter } from '../http/dashboard-exception.filter';

const PUBLIC_DIR = join(__dirname, '..', 'public');
const BOOTSTRAP_DIR = join(dirname(require.resolve('bootstrap/package.json')), 'dist');

/** The only files served: the dashboard's own, and Bootstrap for its default layout (from the npm package, not a CDN). */
const ASSETS: Record<string, string> = {
  'dashboard.js': join(PUBLIC_DIR, 'dashboard.js'),
  'dashboard.css': join(PUBLIC_DIR, 'dashboard.css'),
  'bootstrap.min.css': join(BOOTSTRAP_DIR, 'css', 'bootstrap.min.css'),
  'bootstrap.bundle.min.js': join(BOOTSTRAP_DIR, 'js', 'bootstrap.bundle.min.js'),
};

@Controller('assets')
@UseGuards(DashboardAccessGuard)
@UseFilters(DashboardExceptionFilter)
export class AssetsController {
  @Get(':name')
  asset(@Param('name') name: string, @Res() res: Response): void {
    const file = Object.hasOwn(ASSETS, name) ? ASSETS[name] : undefined;
    if (file === undefined) throw new DashboardError(404, 'There is no such page.');
    res.sendFile(file, { maxAge: '1h' });
  }
}

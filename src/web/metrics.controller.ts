import { Controller, Get, Req, Res } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { Request, Response } from 'express';
import { trustProxy } from '../config/app-settings';
import { AppMetrics } from '../observability/app-metrics';
import { isForwarded, METRICS_REFUSED, metricsAllowed } from '../observability/metrics-access';

/** Prometheus's scrape target, for this machine only unless Metrics__AllowRemote=true (see metricsAllowed). */
@Controller('metrics')
export class MetricsController {
  private readonly allowRemote: boolean;
  private readonly proxyTrusted: boolean;

  constructor(
    private readonly metrics: AppMetrics,
    config: ConfigService,
  ) {
    this.allowRemote = config.get<boolean>('Metrics__AllowRemote') === true;
    this.proxyTrusted = trustProxy(config) !== false;
  }

  @Get()
  async scrape(@Req() req: Request, @Res() res: Response): Promise<void> {
    res.set('Cache-Control', 'no-store');
    const request = { clientAddress: req.ip, forwarded: isForwarded(req.headers), proxyTrusted: this.proxyTrusted };
    if (!metricsAllowed(request, this.allowRemote)) {
      res.status(403).type('text/plain').send(METRICS_REFUSED);
      return;
    }
    const { contentType, body } = await this.metrics.render();
    // Not res.send(): Express would rewrite prom-client's content type.
    res.status(200).setHeader('Content-Type', contentType);
    res.end(body);
  }
}

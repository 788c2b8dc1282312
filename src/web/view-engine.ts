import { join } from 'node:path';
import type { NestExpressApplication } from '@nestjs/platform-express';
import * as hbs from 'hbs';

type Sections = Record<string, string[]>;
interface HelperOptions {
  fn: (context: unknown) => string;
  data: { root: { _sections?: Sections } };
}

/**
 * Handlebars with a Razor-like layout: a page fills `{{#section "styles"}}` and
 * `{{#section "scripts"}}`, and layout.hbs renders them with `{{{renderSection "..."}}}`.
 */
export function configureViews(app: NestExpressApplication): void {
  const instance = hbs.create();
  instance.registerHelper('section', function (this: unknown, name: string, options: HelperOptions) {
    const sections = (options.data.root._sections ??= {});
    (sections[name] ??= []).push(options.fn(this));
    return null;
  });
  instance.registerHelper(
    'renderSection',
    (name: string, options: HelperOptions) =>
      new instance.handlebars.SafeString((options.data.root._sections?.[name] ?? []).join('\n')),
  );
  // eslint-disable-next-line @typescript-eslint/unbound-method -- hbs binds __express to its instance itself
  app.engine('hbs', instance.__express);
  app.setBaseViewsDir(join(__dirname, 'views'));
  app.setViewEngine('hbs');
}

/** The seed's `MyReportJobArgs`; its job name is the class name, as ABP's default (the type's name). */
export class MyReportJobArgs {
  content?: string | null;
}

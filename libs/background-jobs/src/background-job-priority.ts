/** ABP's `BackgroundJobPriority`, with ABP's numbers (stored in the Priority column). */
export enum BackgroundJobPriority {
  Low = 5,
  BelowNormal = 10,
  Normal = 15,
  AboveNormal = 20,
  High = 25,
}

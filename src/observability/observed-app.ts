/** Injection token: which of the two apps this process is ('web' | 'worker'). */
export const OBSERVED_APP = Symbol('ObservedApp');

// Types of render.mjs, for the tests.
export function clean(text: string): string;
export function render(line: string): string;

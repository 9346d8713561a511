// Types of text.mjs, for the tests.
export function tailOfText(text: string, max: number): string;

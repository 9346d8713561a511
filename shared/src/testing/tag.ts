// The marker in the name of every test group that needs the emulators.
export const EMULATOR_TAG = '[emulators]';

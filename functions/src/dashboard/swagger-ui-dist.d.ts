// The one module of swagger-ui-dist the docs page imports: where the package's files are on disk.
declare module 'swagger-ui-dist/absolute-path.js' {
  const getAbsoluteFSPath: () => string;
  export default getAbsoluteFSPath;
}

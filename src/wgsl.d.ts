// esbuild inlines every shaders/*.wgsl as a string (loader: text).
declare module '*.wgsl' {
  const source: string;
  export default source;
}

// wgsl_reflect's ESM build; its main entry exports nothing under Node ESM.
declare module 'wgsl_reflect/wgsl_reflect.module.js' {
  export { WgslReflect } from 'wgsl_reflect';
}

/**
 * opencc-js ships no types for its single dictionaries (`opencc-js/dict/<Name>`, ES modules whose
 * default export is the dictionary serialized as "from to|from to|…"); its core takes them as
 * `DictLike`.
 */
declare module 'opencc-js/dict/*' {
  const dict: string;
  export default dict;
}

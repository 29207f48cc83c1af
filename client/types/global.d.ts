/// <reference types="@tarojs/taro" />

declare module '*.png';
declare module '*.svg';
declare module '*.css';
declare module '*.scss';

declare namespace NodeJS {
  interface ProcessEnv {
    NODE_ENV: 'development' | 'production' | 'test';
    /** The platform being built (Taro sets it at build time). */
    TARO_ENV: 'weapp' | 'h5' | 'swan' | 'alipay' | 'tt' | 'qq' | 'jd' | 'rn' | 'harmony';
    /** API base URL baked in at build time (see config/index.ts). */
    TARO_APP_API?: string;
    /** "1": dev login on weapp too; "0": no dev login on H5. */
    TARO_APP_DEV_LOGIN?: string;
    /** The WeChat Pay simulator's base URL for H5 builds with dev features (see api/config.ts). */
    TARO_APP_WXPAY_SIM?: string;
  }
}

/** Set by scripts/start.js in the served index.html: the API address of the local stack. */
interface Window {
  __HONGBAO_API__?: string;
  /** The local WeChat Pay simulator's address (its test hooks stand in for WeChat's sheets on H5). */
  __HONGBAO_WXPAY_SIM__?: string;
}

declare module 'weapp-qrcode' {
  interface CanvasContextLike {
    setFillStyle(color: string): void;
    fillRect(x: number, y: number, w: number, h: number): void;
    draw(reserve?: boolean, callback?: () => void): void;
  }
  interface DrawQrcodeOptions {
    width: number;
    height: number;
    text: string;
    ctx?: CanvasContextLike;
    canvasId?: string;
    x?: number;
    y?: number;
    typeNumber?: number;
    /** 0 = M, 1 = L, 2 = H, 3 = Q */
    correctLevel?: number;
    background?: string;
    foreground?: string;
    callback?: (e?: unknown) => void;
  }
  export default function drawQrcode(options: DrawQrcodeOptions): void;
}

import { Canvas, View } from '@tarojs/components';
import Taro from '@tarojs/taro';
import drawQrcode from 'weapp-qrcode';
import { useEffect } from 'react';

interface Props {
  /** canvas-id and id of the canvas (e.g. "packet-qr"). */
  canvasId: string;
  /** The text to encode; nothing is drawn while empty. */
  text: string;
  /** Side in CSS px. */
  size?: number;
  label: string;
  /** Dim the code (expired, refreshing) without hiding it. */
  dim?: boolean;
}

/**
 * Error correction level M (weapp-qrcode: 0; it picks the smallest version that fits): a code
 * link, `<PUBLIC_BASE_URL>/o/<code>`, of up to 152 characters fits version 8 (49 modules).
 */
const LEVEL_M = 0;

/**
 * One QR component for weapp and H5: weapp-qrcode draws with the old canvas API, and
 * `Taro.createCanvasContext(id)` provides that API on both platforms (on H5 over a real
 * <canvas canvas-id>). Drawn after the canvas is mounted (too early draws nothing), on a white
 * square with a quiet zone of about 10 % on each side (weapp-qrcode draws none). On H5 the
 * bitmap is twice the CSS size so the code stays sharp on high-density screens.
 *
 * weapp: the context is looked up in the page's scope, which holds while the canvas sits less
 * than Taro's base template depth (16 levels) deep and outside any CustomWrapper; deeper, pass
 * the component scope to createCanvasContext.
 */
export function QrCode({ canvasId, text, size = 220, label, dim }: Props) {
  const scale = process.env.TARO_ENV === 'h5' ? 2 : 1;
  const px = size * scale;
  useEffect(() => {
    if (!text) return undefined;
    let cancelled = false;
    const draw = () => {
      if (cancelled) return;
      const ctx = Taro.createCanvasContext(canvasId);
      const pad = Math.round(px * 0.1);
      ctx.setFillStyle('#ffffff');
      ctx.fillRect(0, 0, px, px);
      drawQrcode({
        ctx,
        text,
        width: px - 2 * pad,
        height: px - 2 * pad,
        x: pad,
        y: pad,
        correctLevel: LEVEL_M,
        background: '#ffffff',
        foreground: '#000000',
      });
    };
    // Once the canvas is in the page: the next tick, and again a little later for slow mounts.
    const t1 = setTimeout(draw, 30);
    const t2 = setTimeout(draw, 400);
    return () => {
      cancelled = true;
      clearTimeout(t1);
      clearTimeout(t2);
    };
  }, [text, canvasId, px]);
  return (
    <View className={`qr${dim ? ' qr--dim' : ''}`} style={{ width: `${size}px`, height: `${size}px` }}>
      <Canvas
        canvasId={canvasId}
        id={canvasId}
        width={String(px)}
        height={String(px)}
        className="qr__canvas"
        style={{ width: `${size}px`, height: `${size}px` }}
        aria-label={label}
        {...{ role: 'img' }}
        data-code={text}
      />
    </View>
  );
}

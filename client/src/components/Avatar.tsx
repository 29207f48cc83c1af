import { Image, Text, View } from '@tarojs/components';
import { useState } from 'react';
import { avatarSrc, initialOf } from '../lib/avatar';

interface Props {
  name: string;
  avatar?: string | null | undefined;
  /** The box's class (its size and colours come from the page). */
  className: string;
}

/**
 * An account's face: its avatar image when it has one that loads, else the first character of
 * its name. Decorative (the name is always written beside it), so hidden from screen readers.
 */
export function Avatar({ name, avatar, className }: Props) {
  const src = avatarSrc(avatar);
  const [broken, setBroken] = useState<string | undefined>();
  const show = src && broken !== src;
  return (
    <View className={className} aria-hidden="true">
      {show ? (
        <Image
          className="avatar__img"
          src={src}
          mode="aspectFill"
          data-testid="avatar-img"
          onError={() => setBroken(src)}
        />
      ) : (
        <Text>{initialOf(name)}</Text>
      )}
    </View>
  );
}

"""Showing a pensioner's name to someone who may not be the pensioner."""

from __future__ import annotations

__all__ = ["mask_name"]


def _mask_word(word: str) -> str:
    if len(word) <= 1:
        return word
    if len(word) == 2:
        return word[0] + "*"
    if word.isascii():
        return word[0] + "*" * (len(word) - 1)
    return word[0] + "*" * (len(word) - 2) + word[-1]


def mask_name(name: str) -> str:
    """"张桂兰" -> "张*兰", "张三" -> "张*", "John Smith" -> "J*** S****".

    Enough for the pensioner to recognise their own name on a page opened from a link,
    not enough for someone else holding the phone to learn it. A Chinese name is one
    word even when it was typed with spaces ("欧阳 修" -> "欧*修", never "欧* 修"): spaces
    are not part of how Chinese names are written, and masking each part would show
    more of the name and where it splits.
    """
    words = name.split()
    if words and not any(word.isascii() for word in words):
        return _mask_word("".join(words))
    return " ".join(_mask_word(word) for word in words)

package bot

import (
	"bytes"
	"context"
	"errors"
	"strings"

	tgbot "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
)

// sendText sends a text message; kb may be nil. A text over Telegram's
// limit goes as several messages, cut at line breaks, the keyboard under the
// last one, which is returned.
func (b *Bot) sendText(ctx context.Context, chat int64, text string, kb models.ReplyMarkup) (*models.Message, error) {
	parts := split(text, maxText)
	var m *models.Message
	for i, part := range parts {
		err := b.call(ctx, chat, func(ctx context.Context) error {
			p := &tgbot.SendMessageParams{ChatID: chat, Text: part}
			if i == len(parts)-1 {
				p.ReplyMarkup = kb
			}
			var err error
			m, err = b.tg.SendMessage(ctx, p)
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	return m, nil
}

// reply sends text to chat and logs a failure: for answers to commands,
// where nobody else could act on the error.
func (b *Bot) reply(ctx context.Context, chat int64, text string, kb models.ReplyMarkup) {
	if _, err := b.sendText(ctx, chat, text, kb); err != nil {
		b.log.Warn("telegram sendMessage", "chat", chat, "err", err)
	}
}

// sendPhoto uploads png as a photo with a caption; kb may be nil.
func (b *Bot) sendPhoto(ctx context.Context, chat int64, png []byte, name, caption string, kb models.ReplyMarkup) (*models.Message, error) {
	var m *models.Message
	err := b.call(ctx, chat, func(ctx context.Context) error {
		var err error
		m, err = b.tg.SendPhoto(ctx, &tgbot.SendPhotoParams{
			ChatID:      chat,
			Photo:       &models.InputFileUpload{Filename: name, Data: bytes.NewReader(png)},
			Caption:     clip(caption, maxCaption),
			ReplyMarkup: kb,
		})
		return err
	})
	return m, err
}

// sendDocument uploads data as a file.
func (b *Bot) sendDocument(ctx context.Context, chat int64, data []byte, name, caption string) error {
	return b.call(ctx, chat, func(ctx context.Context) error {
		_, err := b.tg.SendDocument(ctx, &tgbot.SendDocumentParams{
			ChatID:   chat,
			Document: &models.InputFileUpload{Filename: name, Data: bytes.NewReader(data)},
			Caption:  clip(caption, maxCaption),
		})
		return err
	})
}

// edit makes one edit call to chat through call; Telegram's "message is not
// modified" (the edit asks for what is already shown: double taps, retries)
// counts as done.
func (b *Bot) edit(ctx context.Context, chat int64, fn func(ctx context.Context) error) error {
	if err := b.call(ctx, chat, fn); err != nil && !notModified(err) {
		return err
	}
	return nil
}

// editPhoto replaces a message's photo, caption and keyboard in one call;
// kb nil removes the keyboard.
func (b *Bot) editPhoto(ctx context.Context, chat int64, msgID int, png []byte, name, caption string, kb models.ReplyMarkup) error {
	return b.edit(ctx, chat, func(ctx context.Context) error {
		_, err := b.tg.EditMessageMedia(ctx, &tgbot.EditMessageMediaParams{
			ChatID:    chat,
			MessageID: msgID,
			Media: &models.InputMediaPhoto{
				Media:           "attach://" + name,
				MediaAttachment: bytes.NewReader(png),
				Caption:         clip(caption, maxCaption),
			},
			ReplyMarkup: kb,
		})
		return err
	})
}

// editCaption replaces a message's caption and keyboard; kb nil removes the
// keyboard.
func (b *Bot) editCaption(ctx context.Context, chat int64, msgID int, caption string, kb models.ReplyMarkup) error {
	return b.edit(ctx, chat, func(ctx context.Context) error {
		_, err := b.tg.EditMessageCaption(ctx, &tgbot.EditMessageCaptionParams{
			ChatID: chat, MessageID: msgID, Caption: clip(caption, maxCaption), ReplyMarkup: kb,
		})
		return err
	})
}

// editText replaces a text message and its keyboard; kb nil removes the
// keyboard.
func (b *Bot) editText(ctx context.Context, chat int64, msgID int, text string, kb models.ReplyMarkup) error {
	return b.edit(ctx, chat, func(ctx context.Context) error {
		_, err := b.tg.EditMessageText(ctx, &tgbot.EditMessageTextParams{
			ChatID: chat, MessageID: msgID, Text: clip(text, maxText), ReplyMarkup: kb,
		})
		return err
	})
}

// deleteMessage deletes a message of ours.
func (b *Bot) deleteMessage(ctx context.Context, chat int64, msgID int) error {
	return b.call(ctx, chat, func(ctx context.Context) error {
		_, err := b.tg.DeleteMessage(ctx, &tgbot.DeleteMessageParams{ChatID: chat, MessageID: msgID})
		return err
	})
}

// answer acknowledges a button press; text may be empty. Every press is
// answered, or the user's client keeps spinning; a text over Telegram's
// limit is shortened, since Telegram would refuse the whole answer.
func (b *Bot) answer(ctx context.Context, id, text string) {
	_, err := b.tg.AnswerCallbackQuery(ctx, &tgbot.AnswerCallbackQueryParams{CallbackQueryID: id, Text: clip(text, maxAnswer)})
	if err != nil {
		b.log.Warn("telegram answerCallbackQuery", "err", err)
	}
}

// notModified reports Telegram's "message is not modified": the edit asked
// for what is already shown, which is success for us (double taps, retries).
func notModified(err error) bool {
	return errors.Is(err, tgbot.ErrorBadRequest) && strings.Contains(err.Error(), "message is not modified")
}

// messageGone reports that a message cannot be edited any more (deleted, too
// old, or not ours): a fresh message must be sent instead.
func messageGone(err error) bool {
	if !errors.Is(err, tgbot.ErrorBadRequest) {
		return false
	}
	s := err.Error()
	return strings.Contains(s, "message to edit not found") || strings.Contains(s, "message can't be edited") ||
		strings.Contains(s, "MESSAGE_ID_INVALID") || strings.Contains(s, "message not found")
}

// undeliverable reports errors that retrying cannot cure: the bot was blocked
// or removed, the chat is gone (a group upgraded to a supergroup has a new
// id), or Telegram refused the request as made.
func undeliverable(err error) bool {
	var moved *tgbot.MigrateError
	return errors.Is(err, tgbot.ErrorForbidden) || errors.As(err, &moved) ||
		(errors.Is(err, tgbot.ErrorBadRequest) && !messageGone(err))
}

package adminbot

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"

	"github.com/mymmrac/telego"

	"github.com/salesbot/salesbot/domain"
)

// MaxImportSize is the largest contacts file /import takes: what the Bot
// API lets a bot download.
const MaxImportSize = 20 << 20

// importInline is how many rows /import records before it answers; a
// larger file is imported in the background, so the bot keeps answering,
// and the report follows when it is done.
const importInline = 2000

// maxListed is how many rejected rows a report lists, as in the CLI.
const maxListed = 20

// importFile runs /import: it downloads the CSV file sent with the
// command, imports it through Config.Import (as salesbot contacts import
// does) and answers with the same report.
func (b *Bot) importFile(ctx context.Context, chat, user int64, c Command, doc *telego.Document) {
	if b.cfg.Import == nil {
		b.reply(ctx, chat, reply{text: "Importing contacts is not available in this process; use salesbot contacts import."})
		return
	}
	spec, _ := find("import")
	if doc == nil {
		b.reply(ctx, chat, reply{text: "Send the .csv file with the command as its caption: <code>" + Escape(spec.usage()) + "</code>"})
		return
	}
	name := path.Base(strings.ReplaceAll(doc.FileName, `\`, "/"))
	if name == "" || name == "." || name == "/" {
		name = "contacts.csv"
	}
	if ext := strings.ToLower(path.Ext(name)); ext != ".csv" && ext != ".txt" && !strings.HasPrefix(doc.MimeType, "text/") {
		b.reply(ctx, chat, reply{text: fmt.Sprintf("%s is not a .csv file; export the list as CSV (UTF-8) and send that.", Escape(name))})
		return
	}
	if doc.FileSize > MaxImportSize {
		b.reply(ctx, chat, reply{text: fmt.Sprintf("%s is %.1f MB; the bot takes files up to 20 MB. Split it, or use salesbot contacts import.", Escape(name), float64(doc.FileSize)/(1<<20))})
		return
	}
	data, err := b.download(ctx, doc.FileID)
	if err != nil {
		b.log.Error("adminbot: download an import file", "user", user, "file", name, "err", err)
		if errors.Is(err, errTooLarge) {
			b.reply(ctx, chat, reply{text: fmt.Sprintf("%s is over 20 MB; split it, or use salesbot contacts import.", Escape(name))})
			return
		}
		b.reply(ctx, chat, reply{text: "Could not fetch the file from Telegram; send it again."})
		return
	}
	f, err := b.cfg.Import.Check(bytes.NewReader(data))
	if err != nil {
		b.reply(ctx, chat, reply{text: fmt.Sprintf("<b>%s</b>: %s; nothing was imported.", Escape(name), Escape(refusal(err)))})
		return
	}
	by := "admin:" + strconv.FormatInt(user, 10)
	source := c.Text
	if source == "" {
		source = "sent to the admin bot"
	}
	note := source + " (file " + name + ", by " + by + ")"
	apply := func(ctx context.Context) {
		rep, err := f.Import(ctx, c.Basis, note, maxListed)
		if err != nil && !errors.Is(err, domain.ErrTooManyErrors) {
			b.log.Error("adminbot: import", "user", user, "file", name, "err", err)
		}
		b.reply(ctx, chat, reply{text: importReport(name, rep, err)})
	}
	if f.Rows() <= importInline {
		apply(ctx)
		return
	}
	b.reply(ctx, chat, reply{text: fmt.Sprintf("Importing %d rows of %s; the report follows when it is done.", f.Rows(), Escape(name))})
	b.work.Add(1)
	go func() {
		defer b.work.Done()
		apply(ctx)
	}()
}

// importReport is the answer to /import: the report salesbot contacts
// import prints, escaped.
func importReport(name string, rep ImportReport, err error) string {
	body := "\n" + Escape(rep.Text)
	switch {
	case errors.Is(err, domain.ErrTooManyErrors):
		return fmt.Sprintf("<b>Nothing was imported from %s</b>: %s. Fix the file and send it again (or import it with salesbot contacts import --partial).%s",
			Escape(name), Escape(refusal(err)), body)
	case err != nil && rep.Rows == 0:
		return Escape(answer(err))
	case err != nil:
		return fmt.Sprintf("<b>The import of %s stopped</b> (it is in the log); sending the file again completes it.%s", Escape(name), body)
	}
	return fmt.Sprintf("<b>Imported %s</b>%s", Escape(name), body)
}

// refusal is why the importer refused a file, as an admin reads it.
func refusal(err error) string {
	var fe *domain.FileError
	if errors.As(err, &fe) {
		return fe.Reason()
	}
	return err.Error()
}

var errTooLarge = errors.New("adminbot: the file is too large")

// download fetches a file the bot received: getFile for its path, then
// the file from <api-url>/file/bot<token>/<path> with the bot's HTTP
// client. Its errors never hold the URL (it carries the token).
func (b *Bot) download(ctx context.Context, fileID string) ([]byte, error) {
	var file *telego.File
	err := b.retry(ctx, func() error {
		var err error
		file, err = b.api.GetFile(ctx, &telego.GetFileParams{FileID: fileID})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("adminbot: getFile: %w", err)
	}
	if file.FileSize > MaxImportSize {
		return nil, errTooLarge
	}
	if file.FilePath == "" {
		return nil, errors.New("adminbot: getFile gave no file path")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, b.api.FileDownloadURL(file.FilePath), nil)
	if err != nil {
		return nil, errors.New("adminbot: download the file: bad file path")
	}
	resp, err := b.http.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // without the URL
		}
		return nil, fmt.Errorf("adminbot: download the file: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("adminbot: download the file: status %s", resp.Status)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxImportSize+1))
	if err != nil {
		return nil, fmt.Errorf("adminbot: download the file: %w", err)
	}
	if len(data) > MaxImportSize {
		return nil, errTooLarge
	}
	return data, nil
}

package web

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"golang.org/x/text/language"
)

// The console speaks English and Russian: every string of its pages is
// in both catalogs under the same key (a test holds them to that). The
// language is the one the lang cookie names (set by the switch,
// ?lang=ru|en), else the best match of the browser's Accept-Language,
// else English.

// Languages the console speaks, the first the default.
var languages = []language.Tag{language.English, language.Russian}

var matcher = language.NewMatcher(languages)

// langCookie keeps the language the switch chose.
const langCookie = "sb_lang"

// catalogs are the UI strings by language ("en", "ru") and key.
var catalogs = map[string]map[string]string{
	"en": {
		"Lang":               "en",
		"OtherLang":          "ru",
		"OtherLangName":      "Русский",
		"Product":            "salesbot",
		"NavInbox":           "Inbox",
		"NavCampaigns":       "Campaigns",
		"NavAccounts":        "Accounts",
		"NavAnalytics":       "Analytics",
		"NavAudit":           "Audit",
		"NavLater":           "coming later",
		"SignOut":            "Sign out",
		"RoleOwner":          "owner",
		"RoleManager":        "manager",
		"RoleAnalyst":        "analyst (read only)",
		"SignInTitle":        "Sign in",
		"SignInHow":          "The console opens with a one-time sign-in link. Ask an owner to run this on the server, then open the link it prints:",
		"SignInCommand":      "salesbot web link",
		"LinkUsedTitle":      "This link was used or expired",
		"LinkUsed":           "Each sign-in link works once and for a short time. Ask for a new one:",
		"ForbiddenTitle":     "Not allowed",
		"Forbidden":          "Your role may not do this.",
		"CSRFTitle":          "The form has expired",
		"CSRF":               "This request did not come from a page of this console, or the page is too old. Go back, reload the page and try again.",
		"NotFoundTitle":      "Not found",
		"NotFound":           "There is no such page or dialog.",
		"ErrorTitle":         "Something went wrong",
		"Error":              "The server could not answer. Try again in a moment; if it goes on, the server's log says why.",
		"Back":               "Back to the inbox",
		"InboxTitle":         "Inbox",
		"NeedsPerson":        "Needs a person",
		"Active":             "Active",
		"Closed":             "Closed",
		"Results":            "Dialogs",
		"NoDialogs":          "No dialogs here.",
		"More":               "Only the first %d are shown: narrow the filters or search.",
		"FilterStatus":       "Status",
		"FilterStage":        "Stage",
		"FilterAccount":      "Account",
		"FilterCampaign":     "Campaign",
		"FilterAny":          "any",
		"FilterOpen":         "open (handoff and active)",
		"StatusHandoff":      "handoff",
		"StatusActive":       "active",
		"StatusClosed":       "closed",
		"Search":             "Search",
		"SearchHint":         "@username or name",
		"Apply":              "Show",
		"Reset":              "Reset",
		"Waiting":            "waiting %s",
		"PastSLA":            "past the SLA",
		"WithManager":        "with a manager",
		"Score":              "score",
		"ScoreTitle":         "Score",
		"Ago":                "%s ago",
		"FieldNeed":          "need",
		"FieldBudget":        "budget",
		"FieldTimeline":      "timeline",
		"FieldAuthority":     "authority",
		"NoName":             "(no name)",
		"Live":               "live",
		"DialogTitle":        "Dialog %d",
		"Transcript":         "Transcript",
		"Earlier":            "Earlier messages are left out here: the export has them all.",
		"NoMessages":         "No messages yet.",
		"Qualification":      "Qualification",
		"NoQualification":    "Nothing qualified yet.",
		"Confidence":         "confidence",
		"Timeline":           "Stages",
		"Actions":            "Actions",
		"TakeOver":           "Take over",
		"Release":            "Hand back to the AI",
		"Reply":              "Reply",
		"ReplyHint":          "Sent from the dialog's account through the outbox, within its pacing. Replying takes the dialog over.",
		"Send":               "Send",
		"Stop":               "Stop the dialog",
		"StopConfirm":        "Stop this dialog? Nothing more will be sent to the lead.",
		"Outcome":            "Outcome",
		"Won":                "won",
		"Lost":               "lost",
		"Amount":             "Amount",
		"Currency":           "Currency",
		"Reason":             "Reason (for lost)",
		"Record":             "Record",
		"Export":             "Export the transcript",
		"Account":            "Account",
		"Campaign":           "Campaign",
		"Stage":              "Stage",
		"Status":             "Status",
		"Variant":            "Variant",
		"Handoff":            "Handoff",
		"Started":            "Started",
		"FirstOut":           "First message sent",
		"FirstIn":            "Lead answered",
		"Qualified":          "Qualified",
		"HandedOff":          "Handed to a person",
		"OutcomeAt":          "Outcome recorded",
		"Updated":            "Last change",
		"AuthorLead":         "lead",
		"AuthorAI":           "AI",
		"AuthorManager":      "manager",
		"MsgPlanned":         "planned",
		"MsgFailed":          "failed",
		"DoneTaken":          "You took the dialog over: the AI is silent in it.",
		"DoneReleased":       "The dialog is back with the AI.",
		"DoneSent":           "Your reply is in the outbox: it goes out within the account's pacing.",
		"DoneStopped":        "The dialog is stopped.",
		"DoneOutcome":        "The outcome is recorded.",
		"DoneNothing":        "Nothing to change: it was so already.",
		"ErrStale":           "The dialog changed since this page was shown, so nothing was done. Here it is as it is now: look again and decide anew.",
		"ErrInvalid":         "This could not be done: %s",
		"ErrState":           "The dialog's state does not allow this: %s",
		"Minutes":            "%d min",
		"HoursMinutes":       "%d h %d min",
		"Days":               "%d d",
		"TimeFormat":         "02 Jan 15:04 MST",
		"StageOpening":       "opening",
		"StageDiscovery":     "discovery",
		"StageQualification": "qualification",
		"StageOffer":         "offer",
		"StageObjections":    "objections",
		"StageHandoff":       "handoff",
		"StageClosed":        "closed",
	},
	"ru": {
		"Lang":               "ru",
		"OtherLang":          "en",
		"OtherLangName":      "English",
		"Product":            "salesbot",
		"NavInbox":           "Входящие",
		"NavCampaigns":       "Кампании",
		"NavAccounts":        "Аккаунты",
		"NavAnalytics":       "Аналитика",
		"NavAudit":           "Аудит",
		"NavLater":           "появится позже",
		"SignOut":            "Выйти",
		"RoleOwner":          "владелец",
		"RoleManager":        "менеджер",
		"RoleAnalyst":        "аналитик (только чтение)",
		"SignInTitle":        "Вход",
		"SignInHow":          "Консоль открывается одноразовой ссылкой для входа. Попросите владельца выполнить на сервере команду и откройте ссылку, которую она выведет:",
		"SignInCommand":      "salesbot web link",
		"LinkUsedTitle":      "Ссылка уже использована или устарела",
		"LinkUsed":           "Каждая ссылка для входа действует один раз и недолго. Запросите новую:",
		"ForbiddenTitle":     "Нет доступа",
		"Forbidden":          "Ваша роль не позволяет это сделать.",
		"CSRFTitle":          "Форма устарела",
		"CSRF":               "Запрос пришёл не со страницы этой консоли, или страница слишком старая. Вернитесь назад, обновите страницу и попробуйте снова.",
		"NotFoundTitle":      "Не найдено",
		"NotFound":           "Такой страницы или диалога нет.",
		"ErrorTitle":         "Что-то пошло не так",
		"Error":              "Сервер не смог ответить. Попробуйте чуть позже; если повторяется, причина в журнале сервера.",
		"Back":               "Ко входящим",
		"InboxTitle":         "Входящие",
		"NeedsPerson":        "Нужен человек",
		"Active":             "Активные",
		"Closed":             "Закрытые",
		"Results":            "Диалоги",
		"NoDialogs":          "Здесь нет диалогов.",
		"More":               "Показаны только первые %d: уточните фильтры или поиск.",
		"FilterStatus":       "Статус",
		"FilterStage":        "Этап",
		"FilterAccount":      "Аккаунт",
		"FilterCampaign":     "Кампания",
		"FilterAny":          "любой",
		"FilterOpen":         "открытые (передача и активные)",
		"StatusHandoff":      "передан человеку",
		"StatusActive":       "активный",
		"StatusClosed":       "закрыт",
		"Search":             "Поиск",
		"SearchHint":         "@username или имя",
		"Apply":              "Показать",
		"Reset":              "Сбросить",
		"Waiting":            "ждёт %s",
		"PastSLA":            "SLA превышен",
		"WithManager":        "у менеджера",
		"Score":              "оценка",
		"ScoreTitle":         "Оценка",
		"Ago":                "%s назад",
		"FieldNeed":          "потребность",
		"FieldBudget":        "бюджет",
		"FieldTimeline":      "сроки",
		"FieldAuthority":     "полномочия",
		"NoName":             "(без имени)",
		"Live":               "обновляется",
		"DialogTitle":        "Диалог %d",
		"Transcript":         "Переписка",
		"Earlier":            "Более ранние сообщения здесь не показаны: они все есть в выгрузке.",
		"NoMessages":         "Сообщений пока нет.",
		"Qualification":      "Квалификация",
		"NoQualification":    "Пока ничего не выяснено.",
		"Confidence":         "уверенность",
		"Timeline":           "Этапы",
		"Actions":            "Действия",
		"TakeOver":           "Взять диалог",
		"Release":            "Вернуть ИИ",
		"Reply":              "Ответ",
		"ReplyHint":          "Уйдёт с аккаунта диалога через очередь отправки, с его темпом. Ответ забирает диалог у ИИ.",
		"Send":               "Отправить",
		"Stop":               "Остановить диалог",
		"StopConfirm":        "Остановить диалог? Лиду больше ничего не будет отправлено.",
		"Outcome":            "Итог",
		"Won":                "выиграна",
		"Lost":               "проиграна",
		"Amount":             "Сумма",
		"Currency":           "Валюта",
		"Reason":             "Причина (для проигранной)",
		"Record":             "Записать",
		"Export":             "Выгрузить переписку",
		"Account":            "Аккаунт",
		"Campaign":           "Кампания",
		"Stage":              "Этап",
		"Status":             "Статус",
		"Variant":            "Вариант",
		"Handoff":            "Передача",
		"Started":            "Начат",
		"FirstOut":           "Первое сообщение отправлено",
		"FirstIn":            "Лид ответил",
		"Qualified":          "Квалифицирован",
		"HandedOff":          "Передан человеку",
		"OutcomeAt":          "Итог записан",
		"Updated":            "Последнее изменение",
		"AuthorLead":         "лид",
		"AuthorAI":           "ИИ",
		"AuthorManager":      "менеджер",
		"MsgPlanned":         "в очереди",
		"MsgFailed":          "не отправлено",
		"DoneTaken":          "Вы взяли диалог: ИИ в нём молчит.",
		"DoneReleased":       "Диалог возвращён ИИ.",
		"DoneSent":           "Ответ в очереди отправки: он уйдёт с темпом аккаунта.",
		"DoneStopped":        "Диалог остановлен.",
		"DoneOutcome":        "Итог записан.",
		"DoneNothing":        "Менять нечего: так уже было.",
		"ErrStale":           "Диалог изменился после показа страницы, поэтому ничего не сделано. Вот он сейчас: посмотрите ещё раз и решите заново.",
		"ErrInvalid":         "Не получилось: %s",
		"ErrState":           "Состояние диалога этого не позволяет: %s",
		"Minutes":            "%d мин",
		"HoursMinutes":       "%d ч %d мин",
		"Days":               "%d дн",
		"TimeFormat":         "02.01 15:04 MST",
		"StageOpening":       "знакомство",
		"StageDiscovery":     "выяснение",
		"StageQualification": "квалификация",
		"StageOffer":         "предложение",
		"StageObjections":    "возражения",
		"StageHandoff":       "передача",
		"StageClosed":        "закрыт",
	},
}

// catalog is a page's strings: L.Key in templates, T for formats.
type catalog map[string]string

// T formats the string of key with args.
func (c catalog) T(key string, args ...any) string { return fmt.Sprintf(c[key], args...) }

// langOf is r's language: "en" or "ru". A ?lang= choice wins, then the
// cookie, then Accept-Language.
func langOf(r *http.Request) string {
	if l := r.URL.Query().Get("lang"); catalogs[l] != nil {
		return l
	}
	var cookie string
	if c, err := r.Cookie(langCookie); err == nil {
		cookie = c.Value
	}
	tag, _ := language.MatchStrings(matcher, cookie, r.Header.Get("Accept-Language"))
	if base, _ := tag.Base(); base.String() == "ru" {
		return "ru"
	}
	return "en"
}

// since says a duration as people read it: minutes, hours and minutes,
// or days.
func (c catalog) since(d time.Duration) string {
	d = max(d, 0)
	switch {
	case d < time.Hour:
		return c.T("Minutes", int(d.Minutes()))
	case d < 48*time.Hour:
		return c.T("HoursMinutes", int(d.Hours()), int(d.Minutes())%60)
	}
	return c.T("Days", int(d.Hours()/24))
}

// stageLabel is a dialog stage in the page's language (a stage it does
// not know as it is).
func stageLabel(L catalog, s string) string { return L.label("Stage", s) }

// fieldLabel is a qualification field in the page's language (a
// scenario's custom field as it is).
func fieldLabel(L catalog, f string) string { return L.label("Field", f) }

// label is the string of key prefix+Word for a word of the domain
// ("opening": StageOpening), or the word itself if there is none.
func (c catalog) label(prefix, word string) string {
	if word == "" {
		return ""
	}
	if l, ok := c[prefix+strings.ToUpper(word[:1])+word[1:]]; ok {
		return l
	}
	return word
}

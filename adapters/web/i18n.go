package web

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
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
		"Lang":                "en",
		"OtherLang":           "ru",
		"OtherLangName":       "Русский",
		"Product":             "salesbot",
		"NavInbox":            "Inbox",
		"NavCampaigns":        "Campaigns",
		"NavAccounts":         "Accounts",
		"NavAnalytics":        "Analytics",
		"NavAudit":            "Audit",
		"SignOut":             "Sign out",
		"RoleOwner":           "owner",
		"RoleManager":         "manager",
		"RoleAnalyst":         "analyst (read only)",
		"SignInTitle":         "Sign in",
		"SignInHow":           "The console opens with a one-time sign-in link. Ask an owner to run this on the server, then open the link it prints:",
		"SignInCommand":       "salesbot web link",
		"LinkUsedTitle":       "This link was used or expired",
		"LinkUsed":            "Each sign-in link works once and for a short time. Ask for a new one:",
		"ForbiddenTitle":      "Not allowed",
		"Forbidden":           "Your role may not do this.",
		"CSRFTitle":           "The form has expired",
		"CSRF":                "This request did not come from a page of this console, or the page is too old. Go back, reload the page and try again.",
		"NotFoundTitle":       "Not found",
		"NotFound":            "There is no such page or dialog.",
		"ErrorTitle":          "Something went wrong",
		"Error":               "The server could not answer. Try again in a moment; if it goes on, the server's log says why.",
		"Back":                "Back to the inbox",
		"InboxTitle":          "Inbox",
		"NeedsPerson":         "Needs a person",
		"Active":              "Active",
		"Closed":              "Closed",
		"Results":             "Dialogs",
		"NoDialogs":           "No dialogs here.",
		"More":                "Only the first %d are shown: narrow the filters or search.",
		"FilterStatus":        "Status",
		"FilterStage":         "Stage",
		"FilterAccount":       "Account",
		"FilterCampaign":      "Campaign",
		"FilterAny":           "any",
		"FilterOpen":          "open (handoff and active)",
		"StatusHandoff":       "handoff",
		"StatusActive":        "active",
		"StatusClosed":        "closed",
		"Search":              "Search",
		"SearchHint":          "@username or name",
		"Apply":               "Show",
		"Reset":               "Reset",
		"Waiting":             "waiting %s",
		"PastSLA":             "past the SLA",
		"WithManager":         "with a manager",
		"Score":               "score",
		"ScoreTitle":          "Score",
		"Ago":                 "%s ago",
		"FieldNeed":           "need",
		"FieldBudget":         "budget",
		"FieldTimeline":       "timeline",
		"FieldAuthority":      "authority",
		"NoName":              "(no name)",
		"Live":                "live",
		"DialogTitle":         "Dialog %d",
		"Transcript":          "Transcript",
		"Earlier":             "Earlier messages are left out here: the export has them all.",
		"NoMessages":          "No messages yet.",
		"Qualification":       "Qualification",
		"NoQualification":     "Nothing qualified yet.",
		"Confidence":          "confidence",
		"Timeline":            "Stages",
		"Actions":             "Actions",
		"TakeOver":            "Take over",
		"Release":             "Hand back to the AI",
		"Reply":               "Reply",
		"ReplyHint":           "Sent from the dialog's account through the outbox, within its pacing. Replying takes the dialog over.",
		"Send":                "Send",
		"Stop":                "Stop the dialog",
		"StopConfirm":         "Stop this dialog? Nothing more will be sent to the lead.",
		"Outcome":             "Outcome",
		"Won":                 "won",
		"Lost":                "lost",
		"Amount":              "Amount",
		"Currency":            "Currency",
		"Reason":              "Reason (for lost)",
		"Record":              "Record",
		"Export":              "Export the transcript",
		"Account":             "Account",
		"Campaign":            "Campaign",
		"Stage":               "Stage",
		"Status":              "Status",
		"Variant":             "Variant",
		"Handoff":             "Handoff",
		"Started":             "Started",
		"FirstOut":            "First message sent",
		"FirstIn":             "Lead answered",
		"Qualified":           "Qualified",
		"HandedOff":           "Handed to a person",
		"OutcomeAt":           "Outcome recorded",
		"Updated":             "Last change",
		"Meeting":             "Meeting",
		"UpcomingMeetings":    "Upcoming meetings",
		"MeetingSlots":        "%d slots offered",
		"MeetingLink":         "a booking link offered: %s",
		"MeetingBooked":       "booked for %s",
		"MeetingManager":      "calendar: %s",
		"MeetingProposedAt":   "Meeting proposed",
		"MeetingBookedAt":     "Meeting booked",
		"DayFormat":           "02 Jan",
		"File":                "file sent",
		"AuthorLead":          "lead",
		"AuthorAI":            "AI",
		"AuthorManager":       "manager",
		"MsgPlanned":          "planned",
		"MsgFailed":           "failed",
		"DoneTaken":           "You took the dialog over: the AI is silent in it.",
		"DoneReleased":        "The dialog is back with the AI.",
		"DoneSent":            "Your reply is in the outbox: it goes out within the account's pacing.",
		"DoneStopped":         "The dialog is stopped.",
		"DoneOutcome":         "The outcome is recorded.",
		"DoneNothing":         "Nothing to change: it was so already.",
		"ErrStale":            "The dialog changed since this page was shown, so nothing was done. Here it is as it is now: look again and decide anew.",
		"ErrInvalid":          "This could not be done: %s",
		"ErrState":            "The dialog's state does not allow this: %s",
		"Minutes":             "%d min",
		"HoursMinutes":        "%d h %d min",
		"Days":                "%d d",
		"TimeFormat":          "02 Jan 15:04 MST",
		"StageOpening":        "opening",
		"StageDiscovery":      "discovery",
		"StageQualification":  "qualification",
		"StageOffer":          "offer",
		"StageObjections":     "objections",
		"StageHandoff":        "handoff",
		"StageClosed":         "closed",
		"CampaignsTitle":      "Campaigns",
		"CampaignTitle":       "Campaign",
		"CampaignNamed":       "Campaign %s",
		"NotAvailable":        "This is not available on this server.",
		"Dialogs":             "Dialogs",
		"Replied":             "Replied",
		"QualifiedRate":       "Qualified",
		"Handoffs":            "Handoffs",
		"WonRate":             "Won",
		"NoCampaigns":         "No campaigns yet.",
		"NewCampaign":         "New campaign",
		"CampaignName":        "Name",
		"SegmentTags":         "Contacts with the tags",
		"SegmentImport":       "From the import",
		"Variants":            "Variants (name=weight)",
		"Accounts":            "Accounts (none: every account)",
		"Start":               "Start",
		"End":                 "End",
		"LengthDays":          "Or length, days",
		"Hours":               "Hours",
		"Weekdays":            "Days",
		"TimeZone":            "Time zone",
		"DailyCap":            "New dialogs a day at most",
		"TotalCap":            "Dialogs in all at most",
		"CreateHint":          "Count first: it says how many people the segment selects and how many of them may be written to now. Nothing is recorded until you create the campaign.",
		"CountAudience":       "Count the audience",
		"CreateCampaign":      "Create the campaign",
		"AudienceCount":       "%d people may be written to now (of %d the segment selects).",
		"Scenario":            "Scenario",
		"Targeted":            "People targeted",
		"Created":             "Created",
		"ClosedDialogs":       "closed",
		"OpenDialogs":         "open",
		"Resume":              "Resume",
		"Pause":               "Pause",
		"PauseConfirm":        "Pause this campaign? It opens no new dialogs until resumed.",
		"FunnelByVariant":     "Funnel by variant",
		"FunnelChart":         "The funnel of %s by variant, as rates of the dialogs, with 95%% intervals",
		"CIHint":              "Each bar is a rate of the variant's dialogs; the whisker is its 95% confidence interval (Wilson): the narrower, the surer.",
		"Weight":              "Weight",
		"ABTests":             "A/B tests against the control",
		"Optimizer":           "Self-optimizing weights",
		"OptimizerAbout":      "The weights follow the %s: Thompson sampling, at least 10%% of new dialogs per active variant; a variant with significantly more opt-outs than the control is paused.",
		"OptimizerNoChange":   "No weight change yet: the campaign's own weights hold.",
		"OptimizerLast":       "Last change %s: %s",
		"Share":               "Share",
		"Posterior":           "Posterior",
		"PosteriorMean":       "Rate (mean)",
		"Interval95":          "95% interval",
		"VariantPaused":       "paused",
		"NoTests":             "One variant only: nothing to compare.",
		"VerdictNoTest":       "%s: too few dialogs yet to compare %s with %s.",
		"VerdictBetter":       "%s does better than %s on %s (%s points): the difference is likely real (p = %.3f).",
		"VerdictWorse":        "%s does worse than %s on %s (%s points): the difference is likely real (p = %.3f).",
		"VerdictChance":       "%s: %s and %s differ by %s points, which could be chance (p = %.3f).",
		"VerdictMore":         "About %d more dialogs per variant would tell.",
		"MetricReplied":       "reply rate",
		"MetricQualified":     "qualified",
		"MetricHandoff":       "handoffs",
		"MetricWon":           "won deals",
		"MetricOpted_out":     "opt-outs",
		"CampaignActive":      "active",
		"CampaignPaused":      "paused",
		"CampaignEnded":       "ended",
		"DonePaused":          "The campaign is paused: it opens no new dialogs.",
		"DoneResumed":         "The campaign is running again.",
		"DoneCreated":         "The campaign is created.",
		"ErrCampaign":         "The campaign's state does not allow this: %s",
		"MoreCampaigns":       "Only the newest %d campaigns are shown.",
		"AccountsTitle":       "Accounts",
		"Today":               "New dialogs today",
		"PerMinute":           "Messages a minute at most",
		"MessagesSent":        "Messages in all",
		"AccountPausedState":  "paused",
		"MoreAccounts":        "Only the first %d accounts are shown.",
		"TodayOfCap":          "%d of %d",
		"TodayNoCap":          "%d (no daily cap)",
		"FloodUntil":          "flood wait until %s (%s left)",
		"DoneAccountPaused":   "The account is paused: it sends nothing until resumed.",
		"DoneAccountResumed":  "The account is resumed.",
		"ErrAccount":          "The account's state does not allow this: %s",
		"PauseAccountConfirm": "Pause this account? It sends nothing until resumed.",
		"AccountsHint":        "The daily cap counts new dialogs per the account's local day (a new account's ramp may cap lower). A flood wait is Telegram's: the account waits it out by itself. Only an owner pauses and resumes accounts.",
		"NoAccounts":          "No accounts yet.",
		"AccountRegistered":   "registered",
		"AccountConnecting":   "connecting",
		"AccountActive":       "active",
		"AccountOffline":      "offline",
		"AccountFlood-wait":   "flood wait",
		"AccountRestricted":   "restricted",
		"AccountLost":         "lost",
		"AccountRemoved":      "removed",
		"AnalyticsTitle":      "Analytics",
		"AnalyticsAll":        "Every dialog so far: %d. Each rate is of them, with its 95%% interval.",
		"KpiReplied":          "%d dialogs where the lead wrote back",
		"KpiQualified":        "%d leads scored as qualified",
		"KpiHandoffs":         "%d handed to a person",
		"KpiWon":              "%d deals won",
		"KpiOptedOut":         "%d leads opted out",
		"OptedOut":            "Opted out",
		"Revenue":             "Revenue",
		"RevenueNote":         "the recorded values of the won deals, by currency",
		"ByDay":               "By day",
		"DayChart":            "Dialogs started each day (the last %d days with any), and how many replied, were handed off and were won",
		"Day":                 "Day (UTC)",
		"ByAccount":           "By account",
		"Tokens":              "LLM tokens and cost",
		"TokensTotal":         "Tokens",
		"TokensTotalNote":     "%s prompt and %s completion tokens over every dialog's turns",
		"TokensPerLead":       "Tokens per qualified lead",
		"PerLeadNote":         "over %d qualified leads",
		"CostTotal":           "Cost",
		"CostNote":            "at %s and %s per million prompt and completion tokens",
		"CostPerLead":         "Cost per qualified lead",
		"CostPerWon":          "Cost per won deal",
		"PerWonNote":          "over %d won deals",
		"CachedNote":          "; %s of the prompt tokens served from the provider's prompt cache",
		"CostCachedNote":      "; cached prompt tokens at %s",
		"PriceHint":           "Costs show once the prices are set: salesbot run's --llm-price-prompt and --llm-price-completion (SALESBOT_LLM_PRICE_PROMPT, SALESBOT_LLM_PRICE_COMPLETION), in US dollars per million tokens; --llm-price-cached (SALESBOT_LLM_PRICE_CACHED) if cached prompt tokens cost less.",
		"FirstReply":          "Time to first reply",
		"LeadReplyTime":       "The lead's first reply",
		"LeadReplyNote":       "median over %d dialogs we opened that the lead answered",
		"OurReplyTime":        "Our first reply",
		"OurReplyNote":        "median over %d dialogs the lead opened that we answered",
		"Seconds":             "%d s",
		"MinutesSeconds":      "%d min %d s",
		"AuditTitle":          "Audit",
		"Verification":        "The log's verification",
		"LogIntact":           "intact",
		"LogNotIntact":        "NOT intact",
		"VerifiedAt":          "verified %s by %s",
		"LogID":               "Log",
		"Head":                "Head (write it down)",
		"EventsVerified":      "Events verified",
		"InStreams":           "in %d streams",
		"SignedHead":          "Last signed head",
		"Unsigned":            "%d events after it",
		"Anchor":              "Anchor outside the data dir",
		"Subjects":            "People's keys",
		"SubjectsErased":      "%d, of them %d erased",
		"Took":                "Took",
		"Problems":            "Problems found",
		"AtPosition":          "at %d",
		"NotVerifiedYet":      "Not verified through this server yet.",
		"ExpectHead":          "Expected head, as written down earlier (optional)",
		"VerifyNow":           "Verify now",
		"VerifyHint":          "It reads the whole log, from one consistent snapshot, while the bot goes on working: on a large log it takes a while.",
		"DoneVerified":        "The log was verified: the result is below.",
		"Replay":              "Replay a dialog",
		"DialogNumber":        "Dialog number",
		"ReplayButton":        "Replay",
		"ReplayPersonal":      "Every event of the dialog, from the log itself, with its personal fields.",
		"ReplayNoPersonal":    "Every event of the dialog, from the log itself, without its personal fields (your role does not read them).",
		"Forgotten":           "forgotten (the contact was erased)",
		"Withheld":            "withheld",
		"NoSuchDialog":        "The log holds no dialog with that number.",
		"ReplayMore":          "Only the first %d of %d events are shown: the API's replay has them all.",
		"NoAccount":           "(no account)",
	},
	"ru": {
		"Lang":                "ru",
		"OtherLang":           "en",
		"OtherLangName":       "English",
		"Product":             "salesbot",
		"NavInbox":            "Входящие",
		"NavCampaigns":        "Кампании",
		"NavAccounts":         "Аккаунты",
		"NavAnalytics":        "Аналитика",
		"NavAudit":            "Аудит",
		"SignOut":             "Выйти",
		"RoleOwner":           "владелец",
		"RoleManager":         "менеджер",
		"RoleAnalyst":         "аналитик (только чтение)",
		"SignInTitle":         "Вход",
		"SignInHow":           "Консоль открывается одноразовой ссылкой для входа. Попросите владельца выполнить на сервере команду и откройте ссылку, которую она выведет:",
		"SignInCommand":       "salesbot web link",
		"LinkUsedTitle":       "Ссылка уже использована или устарела",
		"LinkUsed":            "Каждая ссылка для входа действует один раз и недолго. Запросите новую:",
		"ForbiddenTitle":      "Нет доступа",
		"Forbidden":           "Ваша роль не позволяет это сделать.",
		"CSRFTitle":           "Форма устарела",
		"CSRF":                "Запрос пришёл не со страницы этой консоли, или страница слишком старая. Вернитесь назад, обновите страницу и попробуйте снова.",
		"NotFoundTitle":       "Не найдено",
		"NotFound":            "Такой страницы или диалога нет.",
		"ErrorTitle":          "Что-то пошло не так",
		"Error":               "Сервер не смог ответить. Попробуйте чуть позже; если повторяется, причина в журнале сервера.",
		"Back":                "Ко входящим",
		"InboxTitle":          "Входящие",
		"NeedsPerson":         "Нужен человек",
		"Active":              "Активные",
		"Closed":              "Закрытые",
		"Results":             "Диалоги",
		"NoDialogs":           "Здесь нет диалогов.",
		"More":                "Показаны только первые %d: уточните фильтры или поиск.",
		"FilterStatus":        "Статус",
		"FilterStage":         "Этап",
		"FilterAccount":       "Аккаунт",
		"FilterCampaign":      "Кампания",
		"FilterAny":           "любой",
		"FilterOpen":          "открытые (передача и активные)",
		"StatusHandoff":       "передан человеку",
		"StatusActive":        "активный",
		"StatusClosed":        "закрыт",
		"Search":              "Поиск",
		"SearchHint":          "@username или имя",
		"Apply":               "Показать",
		"Reset":               "Сбросить",
		"Waiting":             "ждёт %s",
		"PastSLA":             "SLA превышен",
		"WithManager":         "у менеджера",
		"Score":               "оценка",
		"ScoreTitle":          "Оценка",
		"Ago":                 "%s назад",
		"FieldNeed":           "потребность",
		"FieldBudget":         "бюджет",
		"FieldTimeline":       "сроки",
		"FieldAuthority":      "полномочия",
		"NoName":              "(без имени)",
		"Live":                "обновляется",
		"DialogTitle":         "Диалог %d",
		"Transcript":          "Переписка",
		"Earlier":             "Более ранние сообщения здесь не показаны: они все есть в выгрузке.",
		"NoMessages":          "Сообщений пока нет.",
		"Qualification":       "Квалификация",
		"NoQualification":     "Пока ничего не выяснено.",
		"Confidence":          "уверенность",
		"Timeline":            "Этапы",
		"Actions":             "Действия",
		"TakeOver":            "Взять диалог",
		"Release":             "Вернуть ИИ",
		"Reply":               "Ответ",
		"ReplyHint":           "Уйдёт с аккаунта диалога через очередь отправки, с его темпом. Ответ забирает диалог у ИИ.",
		"Send":                "Отправить",
		"Stop":                "Остановить диалог",
		"StopConfirm":         "Остановить диалог? Лиду больше ничего не будет отправлено.",
		"Outcome":             "Итог",
		"Won":                 "выиграна",
		"Lost":                "проиграна",
		"Amount":              "Сумма",
		"Currency":            "Валюта",
		"Reason":              "Причина (для проигранной)",
		"Record":              "Записать",
		"Export":              "Выгрузить переписку",
		"Account":             "Аккаунт",
		"Campaign":            "Кампания",
		"Stage":               "Этап",
		"Status":              "Статус",
		"Variant":             "Вариант",
		"Handoff":             "Передача",
		"Started":             "Начат",
		"FirstOut":            "Первое сообщение отправлено",
		"FirstIn":             "Лид ответил",
		"Qualified":           "Квалифицирован",
		"HandedOff":           "Передан человеку",
		"OutcomeAt":           "Итог записан",
		"Updated":             "Последнее изменение",
		"Meeting":             "Встреча",
		"UpcomingMeetings":    "Ближайшие встречи",
		"MeetingSlots":        "предложено слотов: %d",
		"MeetingLink":         "отправлена ссылка для записи: %s",
		"MeetingBooked":       "назначена на %s",
		"MeetingManager":      "календарь: %s",
		"MeetingProposedAt":   "Предложена встреча",
		"MeetingBookedAt":     "Назначена встреча",
		"DayFormat":           "02.01",
		"File":                "отправлен файл",
		"AuthorLead":          "лид",
		"AuthorAI":            "ИИ",
		"AuthorManager":       "менеджер",
		"MsgPlanned":          "в очереди",
		"MsgFailed":           "не отправлено",
		"DoneTaken":           "Вы взяли диалог: ИИ в нём молчит.",
		"DoneReleased":        "Диалог возвращён ИИ.",
		"DoneSent":            "Ответ в очереди отправки: он уйдёт с темпом аккаунта.",
		"DoneStopped":         "Диалог остановлен.",
		"DoneOutcome":         "Итог записан.",
		"DoneNothing":         "Менять нечего: так уже было.",
		"ErrStale":            "Диалог изменился после показа страницы, поэтому ничего не сделано. Вот он сейчас: посмотрите ещё раз и решите заново.",
		"ErrInvalid":          "Не получилось: %s",
		"ErrState":            "Состояние диалога этого не позволяет: %s",
		"Minutes":             "%d мин",
		"HoursMinutes":        "%d ч %d мин",
		"Days":                "%d дн",
		"TimeFormat":          "02.01 15:04 MST",
		"StageOpening":        "знакомство",
		"StageDiscovery":      "выяснение",
		"StageQualification":  "квалификация",
		"StageOffer":          "предложение",
		"StageObjections":     "возражения",
		"StageHandoff":        "передача",
		"StageClosed":         "закрыт",
		"CampaignsTitle":      "Кампании",
		"CampaignTitle":       "Кампания",
		"CampaignNamed":       "Кампания %s",
		"NotAvailable":        "На этом сервере это недоступно.",
		"Dialogs":             "Диалоги",
		"Replied":             "Ответили",
		"QualifiedRate":       "Квалифицированы",
		"Handoffs":            "Переданы",
		"WonRate":             "Выиграны",
		"NoCampaigns":         "Кампаний пока нет.",
		"NewCampaign":         "Новая кампания",
		"CampaignName":        "Название",
		"SegmentTags":         "Контакты с тегами",
		"SegmentImport":       "Из импорта",
		"Variants":            "Варианты (имя=вес)",
		"Accounts":            "Аккаунты (пусто: все)",
		"Start":               "Начало",
		"End":                 "Конец",
		"LengthDays":          "Или длительность, дней",
		"Hours":               "Часы",
		"Weekdays":            "Дни",
		"TimeZone":            "Часовой пояс",
		"DailyCap":            "Не больше новых диалогов в день",
		"TotalCap":            "Не больше диалогов всего",
		"CreateHint":          "Сначала посчитайте: будет видно, сколько людей выбирает сегмент и скольким из них можно писать сейчас. Ничего не записывается, пока вы не создадите кампанию.",
		"CountAudience":       "Посчитать аудиторию",
		"CreateCampaign":      "Создать кампанию",
		"AudienceCount":       "Писать сейчас можно %d людям (из %d, выбранных сегментом).",
		"Scenario":            "Сценарий",
		"Targeted":            "Выбрано людей",
		"Created":             "Создана",
		"ClosedDialogs":       "закрытые",
		"OpenDialogs":         "открытые",
		"Resume":              "Возобновить",
		"Pause":               "Приостановить",
		"PauseConfirm":        "Приостановить кампанию? Новых диалогов не будет, пока её не возобновят.",
		"FunnelByVariant":     "Воронка по вариантам",
		"FunnelChart":         "Воронка кампании %s по вариантам, доли диалогов с 95%% интервалами",
		"CIHint":              "Каждый столбец — доля диалогов варианта; усик — её 95% доверительный интервал (Уилсона): чем он уже, тем надёжнее.",
		"Weight":              "Вес",
		"ABTests":             "A/B-тесты против контрольного варианта",
		"Optimizer":           "Веса, которые настраиваются сами",
		"OptimizerAbout":      "Веса следуют за метрикой «%s»: сэмплирование Томпсона, не меньше 10%% новых диалогов на каждый активный вариант; вариант, от которого отписываются значимо чаще, чем от контрольного, приостанавливается.",
		"OptimizerNoChange":   "Веса ещё не менялись: действуют веса кампании.",
		"OptimizerLast":       "Последнее изменение %s: %s",
		"Share":               "Доля",
		"Posterior":           "Апостериорное",
		"PosteriorMean":       "Доля успехов (среднее)",
		"Interval95":          "95% интервал",
		"VariantPaused":       "приостановлен",
		"NoTests":             "Вариант один: сравнивать не с чем.",
		"VerdictNoTest":       "%s: пока слишком мало диалогов, чтобы сравнить %s с %s.",
		"VerdictBetter":       "%s лучше, чем %s, по показателю «%s» (%s п.п.): разница, скорее всего, настоящая (p = %.3f).",
		"VerdictWorse":        "%s хуже, чем %s, по показателю «%s» (%s п.п.): разница, скорее всего, настоящая (p = %.3f).",
		"VerdictChance":       "%s: %s и %s отличаются на %s п.п., и это может быть случайностью (p = %.3f).",
		"VerdictMore":         "Примерно %d диалогов на вариант сверх нынешних покажут точнее.",
		"MetricReplied":       "доля ответов",
		"MetricQualified":     "квалифицированы",
		"MetricHandoff":       "передачи",
		"MetricWon":           "выигранные сделки",
		"MetricOpted_out":     "отписки",
		"CampaignActive":      "идёт",
		"CampaignPaused":      "приостановлена",
		"CampaignEnded":       "завершена",
		"DonePaused":          "Кампания приостановлена: новых диалогов она не открывает.",
		"DoneResumed":         "Кампания снова идёт.",
		"DoneCreated":         "Кампания создана.",
		"ErrCampaign":         "Состояние кампании этого не позволяет: %s",
		"MoreCampaigns":       "Показаны только %d самых новых кампаний.",
		"AccountsTitle":       "Аккаунты",
		"Today":               "Новых диалогов сегодня",
		"PerMinute":           "Не больше сообщений в минуту",
		"MessagesSent":        "Сообщений всего",
		"AccountPausedState":  "на паузе",
		"MoreAccounts":        "Показаны только первые %d аккаунтов.",
		"TodayOfCap":          "%d из %d",
		"TodayNoCap":          "%d (без дневного лимита)",
		"FloodUntil":          "флуд-ожидание до %s (осталось %s)",
		"DoneAccountPaused":   "Аккаунт на паузе: он ничего не отправляет, пока его не возобновят.",
		"DoneAccountResumed":  "Аккаунт возобновлён.",
		"ErrAccount":          "Состояние аккаунта этого не позволяет: %s",
		"PauseAccountConfirm": "Поставить аккаунт на паузу? Он ничего не будет отправлять, пока его не возобновят.",
		"AccountsHint":        "Дневной лимит считает новые диалоги за местные сутки аккаунта (у нового аккаунта разгон может ограничивать сильнее). Флуд-ожидание назначает Telegram: аккаунт пережидает его сам. Ставить на паузу и возобновлять аккаунты может только владелец.",
		"NoAccounts":          "Аккаунтов пока нет.",
		"AccountRegistered":   "добавлен",
		"AccountConnecting":   "подключается",
		"AccountActive":       "работает",
		"AccountOffline":      "отключён",
		"AccountFlood-wait":   "флуд-ожидание",
		"AccountRestricted":   "ограничен",
		"AccountLost":         "потерян",
		"AccountRemoved":      "удалён",
		"AnalyticsTitle":      "Аналитика",
		"AnalyticsAll":        "Всего диалогов: %d. Каждая доля — от них, с 95%% интервалом.",
		"KpiReplied":          "%d диалогов, где лид ответил",
		"KpiQualified":        "%d лидов квалифицированы по оценке",
		"KpiHandoffs":         "%d переданы человеку",
		"KpiWon":              "%d сделок выиграно",
		"KpiOptedOut":         "%d лидов отписались",
		"OptedOut":            "Отписались",
		"Revenue":             "Выручка",
		"RevenueNote":         "записанные суммы выигранных сделок, по валютам",
		"ByDay":               "По дням",
		"DayChart":            "Диалоги, начатые за день (последние %d дней с диалогами), и сколько из них ответили, переданы человеку и выиграны",
		"Day":                 "День (UTC)",
		"ByAccount":           "По аккаунтам",
		"Tokens":              "Токены и стоимость LLM",
		"TokensTotal":         "Токены",
		"TokensTotalNote":     "%s входных и %s выходных токенов по ходам всех диалогов",
		"TokensPerLead":       "Токенов на квалифицированного лида",
		"PerLeadNote":         "по %d квалифицированным лидам",
		"CostTotal":           "Стоимость",
		"CostNote":            "по %s и %s за миллион входных и выходных токенов",
		"CostPerLead":         "Стоимость квалифицированного лида",
		"CostPerWon":          "Стоимость выигранной сделки",
		"PerWonNote":          "по %d выигранным сделкам",
		"CachedNote":          "; из входных %s взяты из кэша промптов провайдера",
		"CostCachedNote":      "; входные токены из кэша по %s",
		"PriceHint":           "Стоимость появится, когда заданы цены: --llm-price-prompt и --llm-price-completion у salesbot run (SALESBOT_LLM_PRICE_PROMPT, SALESBOT_LLM_PRICE_COMPLETION), в долларах США за миллион токенов; --llm-price-cached (SALESBOT_LLM_PRICE_CACHED), если входные токены из кэша дешевле.",
		"FirstReply":          "Время до первого ответа",
		"LeadReplyTime":       "Первый ответ лида",
		"LeadReplyNote":       "медиана по %d диалогам, начатым нами, где лид ответил",
		"OurReplyTime":        "Наш первый ответ",
		"OurReplyNote":        "медиана по %d диалогам, начатым лидом, где мы ответили",
		"Seconds":             "%d с",
		"MinutesSeconds":      "%d мин %d с",
		"AuditTitle":          "Аудит",
		"Verification":        "Проверка журнала",
		"LogIntact":           "цел",
		"LogNotIntact":        "НЕ цел",
		"VerifiedAt":          "проверен %s, запустил(а) %s",
		"LogID":               "Журнал",
		"Head":                "Голова (запишите её)",
		"EventsVerified":      "Проверено событий",
		"InStreams":           "в %d потоках",
		"SignedHead":          "Последняя подписанная голова",
		"Unsigned":            "после неё %d событий",
		"Anchor":              "Якорь вне каталога данных",
		"Subjects":            "Ключи людей",
		"SubjectsErased":      "%d, из них стёрто %d",
		"Took":                "Заняло",
		"Problems":            "Найденные проблемы",
		"AtPosition":          "на позиции %d",
		"NotVerifiedYet":      "Через этот сервер журнал ещё не проверялся.",
		"ExpectHead":          "Ожидаемая голова, записанная ранее (необязательно)",
		"VerifyNow":           "Проверить сейчас",
		"VerifyHint":          "Проверка читает весь журнал по одному согласованному снимку, пока бот продолжает работать: на большом журнале это занимает время.",
		"DoneVerified":        "Журнал проверен: результат ниже.",
		"Replay":              "Воспроизвести диалог",
		"DialogNumber":        "Номер диалога",
		"ReplayButton":        "Воспроизвести",
		"ReplayPersonal":      "Все события диалога прямо из журнала, с персональными полями.",
		"ReplayNoPersonal":    "Все события диалога прямо из журнала, без персональных полей (ваша роль их не читает).",
		"Forgotten":           "забыто (контакт стёрт)",
		"Withheld":            "скрыто",
		"NoSuchDialog":        "В журнале нет диалога с таким номером.",
		"ReplayMore":          "Показаны только первые %d из %d событий: в воспроизведении через API есть все.",
		"NoAccount":           "(без аккаунта)",
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

// delay says a short duration to the second: seconds, minutes and
// seconds, then as since does.
func (c catalog) delay(d time.Duration) string {
	d = max(d, 0).Round(time.Second)
	switch {
	case d < time.Minute:
		return c.T("Seconds", int(d.Seconds()))
	case d < time.Hour:
		return c.T("MinutesSeconds", int(d.Minutes()), int(d.Seconds())%60)
	}
	return c.since(d)
}

// number is n with its thousands grouped as the page's language writes
// them: 1,234,567 or 1 234 567 (no-break spaces).
func (c catalog) number(n int64) string {
	sep := ","
	if c["Lang"] == "ru" {
		sep = "\u00a0"
	}
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteString(sep)
		}
		b.WriteRune(r)
	}
	return b.String()
}

// usd is an amount of US dollars as the page's language writes it:
// $12.34 or 12,34 $; below a dollar with four decimals ($0.0031), as an
// LLM's cost per lead may be.
func (c catalog) usd(v float64) string {
	digits := 2
	if v != 0 && math.Abs(v) < 1 {
		digits = 4
	}
	return c.dollars(strconv.FormatFloat(v, 'f', digits, 64))
}

// price is a price in US dollars as given, with two decimals at least:
// $0.15, $10.00, $0.075.
func (c catalog) price(v float64) string {
	s := strconv.FormatFloat(v, 'f', -1, 64)
	whole, frac, _ := strings.Cut(s, ".")
	for len(frac) < 2 {
		frac += "0"
	}
	return c.dollars(whole + "." + frac)
}

// dollars is an amount of US dollars written with a decimal point as
// the page's language writes it.
func (c catalog) dollars(s string) string {
	if c["Lang"] == "ru" {
		return strings.Replace(s, ".", ",", 1) + "\u00a0$"
	}
	return "$" + s
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

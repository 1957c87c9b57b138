"""Translated names the idea pages of the console show: phases, states, reasons, decisions."""

from i18n import _l, _lp
from ideas.models import (
    BoardStatus,
    Comment,
    CommentState,
    FlagReason,
    Idea,
    IdeaState,
    LocationMode,
    Phase,
)

BOARD_STATUS_NAMES = {
    BoardStatus.DRAFT: _l("Draft"),
    BoardStatus.PUBLISHED: _l("Published"),
}
PHASE_NAMES = {
    # TRANSLATORS: phase of an idea board that is published but has not started yet.
    Phase.UPCOMING: _l("Not started yet"),
    Phase.COLLECTING: _l("Collecting ideas"),
    # TRANSLATORS: phase of an idea board in which residents support (vote for) ideas.
    Phase.SUPPORTING: _l("Supporting ideas"),
    # TRANSLATORS: phase of an idea board that is over.
    Phase.CLOSED: _l("Closed"),
}
LOCATION_NAMES = {
    LocationMode.OFF: _l("Not asked"),
    LocationMode.OPTIONAL: _l("Optional"),
    LocationMode.REQUIRED: _l("Required"),
}
IDEA_STATE_NAMES = {
    # TRANSLATORS: the state of an idea (also a tab listing such ideas).
    IdeaState.PUBLISHED: _lp("idea", "Published"),
    IdeaState.PENDING: _l("Awaiting approval"),
    # TRANSLATORS: an idea that residents no longer see (also a tab listing such ideas).
    IdeaState.HIDDEN: _lp("idea", "Hidden"),
    # TRANSLATORS: an idea a moderator refused when approving new ideas.
    IdeaState.REJECTED: _lp("idea", "Rejected"),
    IdeaState.WITHDRAWN: _l("Withdrawn by its author"),
    # TRANSLATORS: an idea merged into another one.
    IdeaState.MERGED: _lp("idea", "Merged"),
}
COMMENT_STATE_NAMES = {
    # TRANSLATORS: the state of a comment.
    CommentState.PUBLISHED: _lp("comment", "Published"),
    # TRANSLATORS: a comment that residents no longer see.
    CommentState.HIDDEN: _lp("comment", "Hidden"),
    CommentState.DELETED: _l("Deleted by its author"),
}
FLAG_REASON_NAMES = {
    FlagReason.SPAM: _l("Spam"),
    FlagReason.OFFENSIVE: _l("Offensive"),
    FlagReason.OFF_TOPIC: _l("Off topic"),
    FlagReason.PERSONAL_DATA: _l("Personal data"),
    FlagReason.DUPLICATE: _l("Duplicate"),
    # TRANSLATORS: a reason for flagging an idea or comment.
    FlagReason.OTHER: _l("Other"),
}
IDEA_SORT_NAMES = {
    "newest": _l("Newest first"),
    "oldest": _l("Oldest first"),
    "most_supported": _l("Most supported"),
    "most_commented": _l("Most commented"),
    "most_flagged": _l("Most flagged"),
}
BOARD_TEXT_LABELS = {"title": _l("Title"), "description": _l("Description")}
#: Why an item is in the moderation queue.
WHY_NAMES = {"flagged": _l("Flagged by residents"), "pending": _l("Awaiting approval")}
#: What each button of a moderator's decision says.
DECISION_NAMES = {
    "approve": _l("Approve"),
    # TRANSLATORS: button refusing an idea awaiting approval.
    "reject": _l("Reject"),
    "hide": _l("Hide"),
    "keep_hidden": _l("Keep hidden"),
    "restore": _l("Restore"),
    "dismiss": _l("Dismiss the flags"),
}
#: Entries of the audit log, as a sentence's verb phrase.
AUDIT_ACTION_NAMES = {
    "idea.hide": _l("hid an idea"),
    "idea.restore": _l("restored an idea"),
    "idea.approve": _l("approved an idea"),
    "idea.reject": _l("rejected an idea"),
    "idea.merge": _l("merged an idea into another"),
    "idea.answer": _l("answered an idea"),
    "idea.auto_hide": _l("hid an idea after flags"),
    "comment.hide": _l("hid a comment"),
    "comment.restore": _l("restored a comment"),
    "comment.auto_hide": _l("hid a comment after flags"),
    "author.mute": _l("paused an author's posting"),
    "author.unmute": _l("let an author post again"),
    "board.import_polis": _l("imported a Pol.is conversation"),
    "consent.publish": _l("published a new version of a consent text"),
    "city.districts": _l("changed the city's districts"),
    "tariff.set": _l("set an energy tariff"),
    "tariff.remove": _l("removed an energy tariff"),
    "temperatures.import": _l("imported daily temperatures"),
    "csv_preset.create": _l("saved a CSV format of a meter portal"),
    "csv_preset.delete": _l("deleted a CSV format of a meter portal"),
    "account.delete": _l("deleted their account"),
    "research.export.request": _l("requested a research export"),
    "research.export.download": _l("downloaded a research export"),
    "research.export.blocked": _l("held back a research export that failed the anonymity check"),
    "research.project.create": _l("created a research project"),
}


def decisions_for(item: Idea | Comment) -> list[tuple[str, str]]:
    """The decisions a moderator is offered on an item in its state, as (decision sent to
    ``ideas.moderation.decide``, key of its button's name); the service has the last word."""
    if item.state == IdeaState.PENDING:
        return [("approve", "approve"), ("reject", "reject")]
    if item.state == IdeaState.PUBLISHED:
        return [("hide", "hide"), *([("restore", "dismiss")] if item.flags_count else [])]
    if item.state == IdeaState.HIDDEN:
        # Hidden by flags, nobody has decided yet: keeping it hidden is a decision too.
        by_flags = item.moderation_reason is None
        return [("restore", "restore"), *([("hide", "keep_hidden")] if by_flags else [])]
    return []

"""My energy feedback: each meter's weekly or monthly report, my savings and my goal.

A report gives every figure with its unit and how it was computed (the readings it came from,
the method, the group compared with), and up to three tips, each with the reason it was
chosen, in my language. Reports are computed each week (and month) once it has ended, and
stored; a period without an up-to-date stored report is computed when asked, not stored.
Feedback processes my readings: without my consent to the current energy feedback text it
answers 409 ``consent-required``, like storing meter data does.
"""

from flask import g
from flask.views import MethodView

from app.extensions import db
from client_api import energy_feedback_output as shown
from client_api.core import Blueprint, signed_in
from energy import meters
from energy.feedback import participation, reports
from energy.schemas import GoalIn, GoalOut

blp = Blueprint(
    "energy_feedback",
    __name__,
    description="My energy feedback: reports, comparison, savings, tips and my goal.",
)


@blp.route("/meters/<int:meter_id>/feedback", endpoint="meter_feedback")
class MeterFeedback(MethodView):
    @signed_in
    @blp.etag
    @blp.query(shown.FeedbackArgs)
    @blp.response(200, shown.FeedbackOut)
    def get(self, args, meter_id):
        """My meter's feedback for a week or a month (by default the last one ended).

        400 with an error on ``starts_on`` for a day that starts no period, or a period that
        has not ended yet. Another person's meter is not found (404).
        """
        meter = meters.get_meter(db.session, g.user, meter_id)
        period, starts_on = shown.asked_period(args, meter)
        found = reports.feedback_for(db.session, g.user, meter, period, starts_on)
        return shown.feedback_out(found, meter)


@blp.route("/me/energy-feedback", endpoint="my_feedback")
class MyFeedback(MethodView):
    @signed_in
    @blp.etag
    @blp.response(200, shown.MyFeedbackOut)
    def get(self):
        """The latest weekly report of each of my meters, my savings since joining my
        campaign and how far I am towards my goal."""
        household, latest = reports.my_feedback(db.session, g.user)
        mine = meters.meters_of(db.session, g.user)
        return {
            "goal": shown.goal_out(household),
            "campaign": participation.campaign_slug(db.session, household),
            "joined_on": household.joined_on if household is not None else None,
            "meters": [
                shown.meter_feedback_out(
                    meter,
                    latest.get(meter.id),
                    household,
                    reports.report_out(latest[meter.id], stored=True)
                    if meter.id in latest
                    else None,
                )
                for meter in mine
            ],
        }


@blp.route("/me/energy-goal", endpoint="energy_goal")
class MyGoal(MethodView):
    @signed_in
    @blp.arguments(GoalIn)
    @blp.response(200, GoalOut)
    def put(self, data):
        """Aim to save a share of my own baseline (1 to 50 per cent). Setting the same goal
        again changes nothing, not even when it was set."""
        household = participation.set_goal(db.session, g.user, data["percent"])
        answer = shown.goal_out(household)
        db.session.commit()
        return answer

    @signed_in
    @blp.response(204)
    def delete(self):
        """Give up my goal (also when I have none)."""
        participation.clear_goal(db.session, g.user)
        db.session.commit()

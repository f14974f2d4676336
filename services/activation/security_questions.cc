#include "services/activation/security_questions.h"

namespace eid::activation {
namespace {

struct Question {
  const char* id;
  const char* vi;
  const char* en;
};

constexpr Question kCatalogue[] = {
    {"q_mother_birthplace", "Mẹ của bạn sinh ra ở đâu?", "Where was your mother born?"},
    {"q_first_school", "Trường tiểu học đầu tiên của bạn tên là gì?",
     "What was the name of your first primary school?"},
    {"q_childhood_friend", "Người bạn thân nhất thời thơ ấu của bạn tên là gì?",
     "What is the name of your closest childhood friend?"},
    {"q_first_teacher", "Giáo viên chủ nhiệm đầu tiên của bạn tên là gì?",
     "What was the name of your first homeroom teacher?"},
    {"q_favourite_dish", "Món ăn bạn thích nhất là gì?", "What is your favourite dish?"},
    {"q_first_job_place", "Nơi bạn làm việc đầu tiên ở đâu?",
     "Where was your first workplace?"},
    {"q_grandfather_name", "Ông nội của bạn tên là gì?",
     "What is your paternal grandfather's given name?"},
    {"q_home_village", "Quê nội của bạn ở xã nào?",
     "Which commune is your father's home village in?"},
};

}  // namespace

std::vector<v1::SecurityQuestion> SecurityQuestions(absl::string_view language) {
  std::vector<v1::SecurityQuestion> out;
  for (const Question& q : kCatalogue) {
    v1::SecurityQuestion& item = out.emplace_back();
    item.set_question_id(q.id);
    item.set_text(language == "en" ? q.en : q.vi);
  }
  return out;
}

bool IsKnownQuestion(absl::string_view question_id) {
  for (const Question& q : kCatalogue) {
    if (question_id == q.id) return true;
  }
  return false;
}

}  // namespace eid::activation

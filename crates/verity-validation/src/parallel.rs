//! The correctness validator as a job of the parallel execution engine (`verity-runner`).

use verity_engine::Deadline;
use verity_runner::{JobError, TestPriority, Validator, Verdict};

use crate::backend::BackendError;
use crate::truth::{GroundTruthCase, Priority};
use crate::validator::{CorrectnessValidator, ValidationResult};

/// Runs [`GroundTruthCase`]s through a [`CorrectnessValidator`]: a wrong answer is a failed
/// verdict (never retried); a backend error is a job error, retried when it is transient.
pub struct CaseValidator(pub CorrectnessValidator);

impl Validator for CaseValidator {
    type Case = GroundTruthCase;
    type Output = ValidationResult;

    fn case_id(&self, case: &GroundTruthCase) -> String {
        case.id.clone()
    }

    fn category(&self, case: &GroundTruthCase) -> String {
        case.query_type.name().to_string()
    }

    fn priority(&self, case: &GroundTruthCase) -> TestPriority {
        match case.priority() {
            Priority::High => TestPriority::High,
            Priority::Normal => TestPriority::Normal,
            Priority::Low => TestPriority::Low,
        }
    }

    fn validate(
        &self,
        case: &GroundTruthCase,
        deadline: &Deadline,
    ) -> Result<Verdict<ValidationResult>, JobError> {
        match self.0.validate(case, deadline) {
            Ok(r) => Ok(Verdict {
                passed: r.is_correct,
                output: r,
            }),
            Err(BackendError::Timeout) => Err(JobError::timeout()),
            Err(BackendError::Unsupported(m)) => Err(JobError::unsupported(m)),
            Err(e) => Err(JobError {
                retryable: e.is_retryable(),
                message: e.to_string(),
                timed_out: false,
                unsupported: false,
            }),
        }
    }
}
